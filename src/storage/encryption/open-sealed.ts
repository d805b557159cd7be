/**
 * Opening an encrypted object (object-reads.ts hands these over). Data keys are unwrapped first,
 * so a missing or wrong key is refused before any byte is read. Small SSE-S3 objects are kept in
 * the hot cache decrypted (memory only, never disk); SSE-C objects never are, so a cached answer
 * can never stand in for the customer's key.
 */
import type { BlobCache } from '../blob-cache.js';
import type { BlobRefs } from '../blob-refs.js';
import { remoteReader } from '../remote-reader.js';
import { memoryReader, openReader } from '../reader.js';
import type { ObjectMeta, ObjectReader } from '../types.js';
import { cipherMetaOf, sealedReader } from './sealed-reader.js';
import { NEEDS_CUSTOMER_KEY, type Sealer } from './sealer.js';
import { customerKeyMatches } from './keys.js';
import { S3Error } from '../../errors/s3-error.js';

export interface SealedDeps {
  blobs: BlobRefs;
  cache: BlobCache;
  sealer: Sealer;
}

export async function openSealed(meta: ObjectMeta, deps: SealedDeps, customerKey: Buffer | undefined): Promise<ObjectReader> {
  // Without the right customer key the metadata is still readable (access checks, HEAD's 400), the bytes are not.
  const customer = meta.sse?.customer;
  if (customer && !(customerKey && customerKeyMatches(customerKey, customer))) return lockedReader(meta);
  const dataKeys = meta.segments.map((s) => deps.sealer.dataKeyOf(s.enc!, customerKey));
  const first = meta.segments[0]!;
  const cacheable = customer === undefined;
  const small = meta.segments.length === 1 && deps.cache.fits(meta.size);
  if (small && cacheable) {
    const hit = deps.cache.get(first.blobId);
    if (hit) return memoryReader(meta, hit);
  }
  const cipherMeta = cipherMetaOf(meta);
  let raw: ObjectReader;
  if (first.inline) {
    const bytes = deps.blobs.inlineBytes(first.blobId);
    // Replaced by another process since our metadata read: open() reads the metadata again.
    if (bytes === undefined) throw Object.assign(new Error(`inline blob ${first.blobId} is gone`), { code: 'ENOENT' });
    raw = memoryReader(cipherMeta, bytes);
  } else {
    const ids = meta.segments.map((s) => s.blobId);
    const files = deps.blobs.files;
    deps.blobs.pin(ids);
    if (files.pathOf) {
      try {
        raw = await openReader(cipherMeta, (id) => files.pathOf!(id), deps.blobs.fds);
      } finally {
        deps.blobs.unpin(ids);
      }
    } else {
      // A remote backend (--blobs s3://...) has no descriptor to hold: the reader keeps the pin until closed.
      raw = remoteReader(cipherMeta, files, () => deps.blobs.unpin(ids));
    }
  }
  const reader = sealedReader(meta, raw, dataKeys);
  if (!small) return reader;
  try {
    const whole = await reader.readOwned();
    if (cacheable) deps.cache.set(first.blobId, whole);
    return memoryReader(meta, whole);
  } finally {
    reader.close();
  }
}

/** A reader of an SSE-C object opened without its key: every read is refused. */
export function lockedReader(meta: ObjectMeta): ObjectReader {
  const refuse = () => new S3Error('InvalidRequest', NEEDS_CUSTOMER_KEY);
  return {
    meta,
    bytes: () => undefined,
    read: () => Promise.reject(refuse()),
    chunks: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(refuse()) }),
    }),
    stream: () => {
      throw refuse();
    },
    close: () => undefined,
  };
}
