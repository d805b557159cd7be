/**
 * `offload migrate` of an encrypted object: its ciphertext and wrapped data keys go across as
 * they are (encryption/sealed-transfer.ts), so SSE-C objects move without their customer's key
 * and SSE-S3 ones stay under the same master key. Each blob's stored bytes are hashed as they are
 * read from the source, and the target's stored bytes are read back and compared: the copy is
 * verified byte for byte without decrypting anything.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { storedBytesSource, type StoredBytesSource } from './encryption/sealed-transfer.js';
import type { ObjectHeaders, ObjectMeta, Segment, Store } from './types.js';

export async function copySealedObject(from: Store, to: Store, meta: ObjectMeta, headers: ObjectHeaders): Promise<void> {
  const source = storedBytesSource(from);
  const target = storedBytesSource(to);
  if (!source || !target || !to.supportsEncryption) throw new Error(`${meta.bucket}/${meta.key} is encrypted, and these stores cannot move encrypted objects as they are`);
  const sse = meta.sse!;
  const digests: string[] = [];
  const body = async (segment: Segment | undefined): Promise<Readable> => {
    if (!segment) return Readable.from([]);
    const digest = createHash('md5');
    const stream = hashed(await source.readStoredBytes(segment), digest, () => digests.push(digest.digest('hex')));
    return stream;
  };
  let written: ObjectMeta;
  if (meta.partSizes === undefined) {
    const segment = meta.segments[0];
    const plainMd5 = Buffer.from(meta.etag.slice(1, 33), 'hex');
    written = await to.putObject({
      ...headers, bucket: meta.bucket, key: meta.key, owner: meta.owner, acl: meta.acl, tags: meta.tags, checksum: meta.checksum,
      body: await body(segment),
      encryption: { sse, sealed: { enc: segment?.enc, md5: plainMd5, size: meta.size } },
    });
  } else {
    const upload = await to.createMultipartUpload({ bucket: meta.bucket, key: meta.key, owner: meta.owner, headers, acl: meta.acl, tags: meta.tags, checksumAlgorithm: meta.checksum?.algorithm, checksumType: meta.checksum?.type, sse });
    try {
      const parts = [];
      let next = 0;
      for (const [i, size] of meta.partSizes.entries()) {
        // Empty parts have no segment (the object's segments are its non-empty parts' blobs).
        const segment = size > 0 ? meta.segments[next++] : undefined;
        // A part's own MD5 is not kept once the upload is complete; the object's ETag is copied as it is.
        const part = await to.putPart({ uploadId: upload.uploadId, partNumber: i + 1, body: await body(segment), encryption: { sse, sealed: { enc: segment?.enc, md5: Buffer.alloc(16), size } } });
        parts.push({ partNumber: part.partNumber, size: part.size, segment: part.segment });
      }
      written = await to.completeMultipartUpload({ uploadId: upload.uploadId, parts, etag: meta.etag, checksum: meta.checksum });
    } catch (err) {
      await to.abortMultipartUpload(upload.uploadId).catch(() => undefined);
      throw err;
    }
  }
  await verifyStored(target, written, digests);
}

function hashed(stream: Readable, digest: Hash, onEnd: () => void): Readable {
  return Readable.from((async function* () {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      digest.update(chunk);
      yield chunk;
    }
    onEnd();
  })());
}

async function verifyStored(target: StoredBytesSource, written: ObjectMeta, digests: string[]): Promise<void> {
  const copied: string[] = [];
  for (const segment of written.segments) {
    const digest = createHash('md5');
    for await (const chunk of (await target.readStoredBytes(segment)) as AsyncIterable<Buffer>) digest.update(chunk);
    copied.push(digest.digest('hex'));
  }
  if (copied.join() !== digests.join()) throw new Error(`${written.bucket}/${written.key}: the copied ciphertext does not match the source's`);
}
