/**
 * Moving encrypted objects between stores as they are (`offload migrate`): the ciphertext of each
 * blob and its wrapped data key go across unchanged, so neither the master key nor an SSE-C
 * customer's key is needed to copy them, and nothing is decrypted on the way. A new seam beside
 * sealer.ts: a write whose EncryptionRequest carries `sealed` stores its body (already ciphertext)
 * without sealing it again; a store that can hand out a blob's stored bytes implements
 * StoredBytesSource.
 */
import { Readable } from 'node:stream';
import type { BlobStorage, WrittenBlob } from '../blobs.js';
import type { Segment, Store } from '../types.js';
import { cipherSize } from './frames.js';
import type { SealedAsIs } from './types.js';

/** Stores ciphertext as a new blob under the encryption it was sealed with; md5 and size stay the plaintext's. */
export async function writeSealedAsIs(files: BlobStorage, body: Readable, opts: { inline?: boolean }, sealed: SealedAsIs): Promise<WrittenBlob> {
  const blob = await files.write(body, opts);
  // A torn copy would fail every read of its last frames: refuse it now instead.
  if (blob.size !== cipherSize(sealed.size) || (sealed.size > 0) !== (sealed.enc !== undefined)) {
    await files.discard(blob);
    throw new Error(`the sealed body is ${blob.size} bytes, expected ${cipherSize(sealed.size)} for ${sealed.size} bytes of plaintext`);
  }
  return { ...blob, md5: sealed.md5, size: sealed.size, ...(sealed.enc && { enc: sealed.enc }) };
}

/** A store that can read a segment's blob as stored: the ciphertext of an encrypted one. */
export interface StoredBytesSource {
  readStoredBytes(segment: Segment): Promise<Readable>;
}

export function storedBytesSource(store: Store): StoredBytesSource | undefined {
  const candidate = store as Partial<StoredBytesSource>;
  return typeof candidate.readStoredBytes === 'function' ? (candidate as StoredBytesSource) : undefined;
}

/** A segment's stored bytes from its inline row or its blob. */
export async function storedBytes(segment: Segment, files: BlobStorage, inlineBytes: (id: string) => Buffer | undefined | Promise<Buffer | undefined>): Promise<Readable> {
  const size = segment.enc ? cipherSize(segment.size) : segment.size;
  if (segment.inline) {
    const bytes = await inlineBytes(segment.blobId);
    if (bytes === undefined) throw Object.assign(new Error(`inline blob ${segment.blobId} is gone`), { code: 'ENOENT' });
    return Readable.from([bytes]);
  }
  return files.readStream(segment.blobId, { start: 0, end: size - 1 });
}
