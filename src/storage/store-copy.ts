/**
 * Copying everything one Store holds into another (`offload migrate`): buckets with their ACLs
 * and configuration documents, then every object with its headers, ACL, tags and checksum,
 * bytes streamed from the source's blobs into the target's (never through S3). A multipart
 * object is rebuilt from the same part sizes, so it keeps its `"<md5>-N"` ETag, and that ETag,
 * recomputed from the copied parts' MD5s, checks its bytes; a single object's MD5 is checked
 * before its commit. Multipart uploads in progress are not copied (they are to be restarted).
 * Last-Modified becomes the time of the copy: the Store contract has no way to set it. A bucket
 * that has had versioning is copied with its whole history (store-copy-versions.ts).
 */
import { createHash } from 'node:crypto';
import { copyVersions } from './store-copy-versions.js';
import type { BucketConfigKind, ObjectHeaders, ObjectMeta, ObjectReader, Store } from './types.js';
import { copySealedObject } from './store-copy-sealed.js';

const CONFIG_KINDS: BucketConfigKind[] = ['policy', 'cors', 'website', 'tagging', 'cache-rules', 'logging', 'ownership', 'public-access-block', 'encryption', 'lifecycle'];

export interface CopyReport {
  buckets: number;
  configs: number;
  objects: number;
  bytes: number;
}

export interface BucketTotals {
  objects: number;
  bytes: number;
  /** MD5 over every key, ETag and size in key order: equal on both sides when the copy is whole. */
  digest: string;
}

export async function copyStore(from: Store, to: Store, onProgress: (line: string) => void = () => undefined): Promise<CopyReport> {
  await Promise.all([from.refresh(), to.refresh()]);
  const taken = to.listBuckets().map((b) => b.name);
  if (taken.length > 0) throw new Error(`the target already has buckets (${taken.slice(0, 5).join(', ')}): migrate copies into an empty store`);
  const report: CopyReport = { buckets: 0, configs: 0, objects: 0, bytes: 0 };
  for (const bucket of from.listBuckets()) {
    await to.createBucket({ name: bucket.name, owner: bucket.owner, region: bucket.region, acl: bucket.acl });
    report.buckets++;
    for (const kind of CONFIG_KINDS) {
      const value = from.getBucketConfig(bucket.name, kind);
      if (value === undefined) continue;
      await to.setBucketConfig(bucket.name, kind, value);
      report.configs++;
    }
    if (from.getBucketConfig(bucket.name, 'versioning') !== undefined && from.listObjectVersions && to.supportsVersioning) {
      const copied = await copyVersions(from, to, bucket.name, async (version) => {
        if (version.sse) {
          await copySealedObject(from, to, version, headersOf(version));
          return true;
        }
        const reader = await from.openObject(bucket.name, version.key, { versionId: version.versionId ?? 'null' });
        if (!reader) return false;
        try {
          await copyObject(reader, to);
        } finally {
          reader.close();
        }
        return true;
      });
      report.objects += copied.versions;
      report.bytes += copied.bytes;
      report.configs++;
      continue;
    }
    for await (const meta of allObjects(from, bucket.name)) {
      if (meta.sse) {
        // Ciphertext and wrapped keys as they are (store-copy-sealed.ts): nothing is decrypted.
        await copySealedObject(from, to, meta, headersOf(meta));
        report.objects++;
        report.bytes += meta.size;
        continue;
      }
      const reader = await from.openObject(bucket.name, meta.key);
      if (!reader) continue;
      try {
        await copyObject(reader, to);
      } finally {
        reader.close();
      }
      report.objects++;
      report.bytes += reader.meta.size;
      if (report.objects % 1000 === 0) onProgress(`${report.objects} objects, ${report.bytes} bytes`);
    }
  }
  return report;
}

/** Counts, bytes and a digest of (key, ETag, size) per bucket, to compare the two sides. */
export async function storeTotals(store: Store): Promise<Map<string, BucketTotals>> {
  await store.refresh();
  const totals = new Map<string, BucketTotals>();
  for (const bucket of store.listBuckets()) {
    const digest = createHash('md5');
    let objects = 0;
    let bytes = 0;
    for await (const meta of allObjects(store, bucket.name)) {
      objects++;
      bytes += meta.size;
      digest.update(`${meta.key}\0${meta.etag}\0${meta.size}\n`);
    }
    totals.set(bucket.name, { objects, bytes, digest: digest.digest('hex') });
  }
  return totals;
}

async function* allObjects(store: Store, bucket: string): AsyncGenerator<ObjectMeta> {
  let after: string | undefined;
  for (;;) {
    const page = await store.listObjects({ bucket, after, maxKeys: 1000 });
    yield* page.objects;
    if (!page.isTruncated || page.lastReturned === undefined) return;
    after = page.lastReturned;
  }
}

function headersOf(meta: ObjectMeta): ObjectHeaders {
  const { contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl, expires, websiteRedirectLocation, userMeta } = meta;
  return { contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl, expires, websiteRedirectLocation, userMeta };
}

async function copyObject(reader: ObjectReader, to: Store): Promise<void> {
  const meta = reader.meta;
  if (meta.partSizes === undefined) {
    await to.putObject({
      ...headersOf(meta),
      bucket: meta.bucket,
      key: meta.key,
      body: reader.stream(),
      owner: meta.owner,
      acl: meta.acl,
      tags: meta.tags,
      checksum: meta.checksum,
      beforeCommit: ({ md5, size }) => {
        if (`"${md5.toString('hex')}"` !== meta.etag || size !== meta.size) throw new Error(`${meta.bucket}/${meta.key}: copied bytes do not match the source (ETag ${meta.etag})`);
      },
    });
    return;
  }
  const upload = await to.createMultipartUpload({ bucket: meta.bucket, key: meta.key, owner: meta.owner, headers: headersOf(meta), acl: meta.acl, tags: meta.tags, checksumAlgorithm: meta.checksum?.algorithm, checksumType: meta.checksum?.type });
  try {
    const parts = [];
    const md5s: Buffer[] = [];
    let offset = 0;
    for (const [i, size] of meta.partSizes.entries()) {
      const range = { start: offset, end: offset + size - 1 };
      offset += size;
      const part = await to.putPart({ uploadId: upload.uploadId, partNumber: i + 1, body: reader.stream(range), beforeCommit: ({ md5 }) => void md5s.push(md5) });
      parts.push({ partNumber: part.partNumber, size: part.size, segment: part.segment });
    }
    const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${meta.partSizes.length}"`;
    if (etag !== meta.etag) throw new Error(`${meta.bucket}/${meta.key}: copied parts do not match the source (ETag ${meta.etag}, copied ${etag})`);
    await to.completeMultipartUpload({ uploadId: upload.uploadId, parts, etag, checksum: meta.checksum });
  } catch (err) {
    await to.abortMultipartUpload(upload.uploadId).catch(() => undefined);
    throw err;
  }
}
