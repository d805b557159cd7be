/**
 * Encryption at rest on PostgreSQL metadata: the same format as the embedded engine (frames.ts,
 * one data key per blob, wrapped in the segment's `enc`), so blobs and metas move between the two
 * unchanged. Writes go through the Sealer of the cluster's recorded master key (or the customer's
 * key); every backend gets ciphertext, and so does the blobs.data column of small inline blobs.
 *
 * Reads unwrap the data keys first (a missing or wrong key is refused before a byte is read),
 * then decrypt only the frames a range touches (sealed-reader.ts) from ranged reads of the
 * ciphertext. Small SSE-S3 objects are kept decrypted in the hot cache (memory only); SSE-C
 * objects never are, so no cached answer can stand in for the customer's key.
 */
import type { Readable } from 'node:stream';
import type { BlobCache } from '../blob-cache.js';
import type { BlobStorage, WrittenBlob } from '../blobs.js';
import { customerKeyMatches } from '../encryption/keys.js';
import type { KeyRing } from '../encryption/keyring.js';
import { lockedReader } from '../encryption/open-sealed.js';
import { cipherMetaOf, sealedReader } from '../encryption/sealed-reader.js';
import { writeSealedAsIs } from '../encryption/sealed-transfer.js';
import { memoryReader } from '../reader.js';
import { remoteReader } from '../remote-reader.js';
import type { EncryptionRequest, ObjectMeta, ObjectReader } from '../types.js';
import type { RecordedMasterKey } from './master-key-record.js';

export class PgSealing {
  constructor(
    readonly ring: KeyRing,
    private readonly recorded: RecordedMasterKey,
    private readonly cache: BlobCache,
  ) {}

  /** Streams the body, encrypted, into a new blob (inline bytes stay in memory, ciphertext too). */
  async write(files: BlobStorage, body: Readable, inline: boolean, request: EncryptionRequest): Promise<WrittenBlob> {
    if (request.sealed) return writeSealedAsIs(files, body, { inline }, request.sealed);
    const sealer = request.customerKey ? this.ring.primary : await this.recorded.sealer();
    return sealer.write(files, body, { inline }, request);
  }

  /** A reader of an encrypted object's plaintext; `inlineBytes` fetches a small blob's row. */
  async open(meta: ObjectMeta, files: BlobStorage, inlineBytes: (id: string) => Promise<Buffer | undefined>, customerKey: Buffer | undefined): Promise<ObjectReader> {
    const customer = meta.sse?.customer;
    // Without the right customer key the metadata stays readable (access checks, HEAD's 400), the bytes do not.
    if (customer && !(customerKey && customerKeyMatches(customerKey, customer))) return lockedReader(meta);
    const dataKeys = meta.segments.map((s) => this.ring.dataKeyOf(s.enc!, customerKey));
    const first = meta.segments[0]!;
    const cacheable = customer === undefined;
    const small = meta.segments.length === 1 && this.cache.fits(meta.size);
    if (small && cacheable) {
      const hit = this.cache.get(first.blobId);
      if (hit) return memoryReader(meta, hit);
    }
    const cipherMeta = cipherMetaOf(meta);
    let raw: ObjectReader;
    if (first.inline) {
      const bytes = await inlineBytes(first.blobId);
      // Replaced and reclaimed since our metadata read: reads.ts reads the metadata again.
      if (bytes === undefined) throw Object.assign(new Error(`inline blob ${first.blobId} is gone`), { code: 'ENOENT' });
      raw = memoryReader(cipherMeta, bytes);
    } else {
      // Fail now, not half-way through the response, if the first blob is already gone.
      await files.readRange(first.blobId, { start: 0, end: 0 });
      // Blobs outlive their last reference by the grace period (blob-gc.ts): nothing to pin.
      raw = remoteReader(cipherMeta, files, () => undefined);
    }
    const reader = sealedReader(meta, raw, dataKeys);
    if (!small) return reader;
    try {
      const whole = (await reader.read()).bytes;
      if (cacheable) this.cache.set(first.blobId, whole);
      return memoryReader(meta, whole);
    } finally {
      reader.close();
    }
  }
}
