/**
 * Opening an object for reading when the metadata is in PostgreSQL and the bytes in any
 * BlobStorage (local or shared folder, a remote object store). Small objects come whole from the
 * hot cache, their row (inline) or one ranged read; larger ones are read in 1 MiB ranges as the
 * response goes out. A version overwritten or deleted meanwhile stays readable: its blobs are
 * reclaimed only after the grace period (blob-gc.ts), which bounds how long a download of an
 * old version may take.
 */
import { Readable } from 'node:stream';
import type { BlobCache } from '../blob-cache.js';
import type { BlobStorage } from '../blobs.js';
import { takeBuffer, type PooledBuffer } from '../buffer-pool.js';
import { memoryReader } from '../reader.js';
import type { ObjectMeta, ObjectReader } from '../types.js';
import type { PgBlobs } from './blob-gc.js';
import type { PgObjects } from './objects.js';
import type { PgState } from './state.js';
import type { PgVersions } from './versions.js';

const CHUNK = 1024 * 1024;

export class PgReads {
  constructor(private readonly objects: PgObjects, private readonly blobs: PgBlobs, private readonly cache: BlobCache, private readonly state: PgState, private readonly versions: PgVersions) {}

  /** The current object, or the version named (a delete marker reads as absent); customerKey: an SSE-C object's key. */
  async open(bucket: string, key: string, which: { versionId?: string; customerKey?: Buffer } = {}): Promise<ObjectReader | undefined> {
    try {
      return await this.tryOpen(bucket, key, which);
    } catch (err) {
      // The blob was reclaimed after the metadata we read named it (a version replaced longer
      // than the grace period ago): read the metadata again, which names the current blob.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.state.objectChanged(bucket, key);
      return this.tryOpen(bucket, key, which);
    }
  }

  private async tryOpen(bucket: string, key: string, { versionId, customerKey }: { versionId?: string; customerKey?: Buffer }): Promise<ObjectReader | undefined> {
    const meta = versionId === undefined ? await this.objects.head(bucket, key) : await this.versions.head(bucket, key, { versionId });
    if (!meta || meta.deleteMarker) return undefined;
    const first = meta.segments[0];
    if (!first) return memoryReader(meta, Buffer.alloc(0));
    if (first.enc) return this.openSealed(meta, customerKey);
    const small = meta.segments.length === 1 && this.cache.fits(meta.size);
    const hit = small ? this.cache.get(first.blobId) : undefined;
    if (hit) return memoryReader(meta, hit);
    if (first.inline || small) {
      const bytes = first.inline ? await this.blobs.inlineBytes(first.blobId) : await this.blobs.files.readRange(first.blobId, { start: 0, end: meta.size - 1 });
      if (bytes === undefined) throw Object.assign(new Error(`inline blob ${first.blobId} is gone`), { code: 'ENOENT' });
      if (small) this.cache.set(first.blobId, bytes);
      return memoryReader(meta, bytes);
    }
    // Fail now, not half-way through the response, if the first blob is already gone.
    await this.blobs.files.readRange(first.blobId, { start: 0, end: 0 });
    return rangeReader(meta, this.blobs.files);
  }

  /** Encrypted objects (sealed.ts): decrypted as they are read, SSE-C ones only with their key. */
  private openSealed(meta: ObjectMeta, customerKey: Buffer | undefined): Promise<ObjectReader> {
    return this.blobs.sealing.open(meta, this.blobs.files, (id) => this.blobs.inlineBytes(id), customerKey);
  }
}

/** A reader that fetches ranges of each segment's blob on demand. */
function rangeReader(meta: ObjectMeta, files: BlobStorage): ObjectReader {
  const whole = (range?: { start: number; end: number }) => ({ start: range?.start ?? 0, end: range?.end ?? meta.size - 1 });
  async function* pieces(range?: { start: number; end: number }): AsyncGenerator<PooledBuffer> {
    const { start, end } = whole(range);
    for (const span of spans(meta, start, end)) {
      for (let done = 0; done < span.length; ) {
        const length = Math.min(CHUNK, span.length - done);
        const bytes = await files.readRange(meta.segments[span.index]!.blobId, { start: span.position + done, end: span.position + done + length - 1 });
        if (bytes.length !== length) throw new Error(`blob ${meta.segments[span.index]!.blobId} is shorter than recorded`);
        done += length;
        yield { bytes, recycle: () => undefined };
      }
    }
  }
  return {
    meta,
    bytes: () => undefined,
    async read(range) {
      const { start, end } = whole(range);
      const out = takeBuffer(Math.max(0, end - start + 1));
      let filled = 0;
      try {
        for await (const piece of pieces(range)) {
          piece.bytes.copy(out.bytes, filled);
          filled += piece.bytes.length;
        }
      } catch (err) {
        out.recycle();
        throw err;
      }
      return out;
    },
    chunks: pieces,
    stream(range) {
      return Readable.from((async function* () {
        for await (const piece of pieces(range)) yield piece.bytes;
      })(), { objectMode: false });
    },
    close: () => undefined,
  };
}

/** The pieces of the object's bytes [start, end] in each segment: which one, where in its blob, how long. */
function* spans(meta: ObjectMeta, start: number, end: number): Generator<{ index: number; position: number; length: number }> {
  let offset = 0;
  for (let index = 0; index < meta.segments.length && offset <= end; index++) {
    const size = meta.segments[index]!.size;
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + size - 1);
    if (from <= to) yield { index, position: from - offset, length: to - from + 1 };
    offset += size;
  }
}
