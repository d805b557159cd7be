/**
 * Opening an object for reading: pins the version current now, so that an overwrite or delete
 * meanwhile cannot take its bytes away (blob-refs.ts). Small objects come from the hot cache or
 * the database (inline blobs), the rest from their blob files.
 */
import { readFile } from 'node:fs/promises';
import type { BlobCache } from './blob-cache.js';
import type { BlobRefs } from './blob-refs.js';
import type { MetaCache } from './meta-cache.js';
import type { Objects } from './objects.js';
import { memoryReader, openReader } from './reader.js';
import { remoteReader } from './remote-reader.js';
import type { ObjectReader } from './types.js';
import { openSealed } from './encryption/open-sealed.js';
import type { Sealer } from './encryption/sealer.js';

export class ObjectReads {
  constructor(private readonly objects: Objects, private readonly blobs: BlobRefs, private readonly cache: BlobCache, private readonly metaCache: MetaCache, private readonly sealer: Sealer) {}

  async open(bucket: string, key: string, which: { versionId?: string; customerKey?: Buffer } = {}): Promise<ObjectReader | undefined> {
    try {
      return await this.tryOpen(bucket, key, which);
    } catch (err) {
      // Another server process may have replaced the object and unlinked its blob between our
      // metadata read and the open: read the metadata again, which names the new blob.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.metaCache.refresh();
      return this.tryOpen(bucket, key, which);
    }
  }

  private async tryOpen(bucket: string, key: string, { versionId, customerKey }: { versionId?: string; customerKey?: Buffer }): Promise<ObjectReader | undefined> {
    // A version by id is pinned like the current one: its blobs stay until the reader closes.
    const meta = versionId === undefined ? this.objects.head(bucket, key) : this.objects.headVersion(bucket, key, { versionId });
    if (!meta || meta.deleteMarker) return undefined;
    if (meta.segments.length === 0) return memoryReader(meta, Buffer.alloc(0));
    if (meta.segments[0]!.enc) return openSealed(meta, { blobs: this.blobs, cache: this.cache, sealer: this.sealer }, customerKey);
    if (meta.segments[0]!.inline) return memoryReader(meta, this.inlineBytes(meta.segments[0]!.blobId, meta.size));
    const small = meta.segments.length === 1 && this.cache.fits(meta.size);
    if (small) {
      const hit = this.cache.get(meta.segments[0]!.blobId);
      if (hit) return memoryReader(meta, hit);
    }
    // Pinned until the descriptors are open: a concurrent delete must not unlink in between.
    const ids = meta.segments.map((s) => s.blobId);
    this.blobs.pin(ids);
    const files = this.blobs.files;
    let pinnedByReader = false;
    try {
      if (small) {
        const blobId = meta.segments[0]!.blobId;
        const bytes = files.pathOf ? await readFile(files.pathOf(blobId)) : await files.readRange(blobId, { start: 0, end: meta.size - 1 });
        this.cache.set(blobId, bytes);
        return memoryReader(meta, bytes);
      }
      if (files.pathOf) return await openReader(meta, (id) => files.pathOf!(id), this.blobs.fds);
      // A remote backend has no descriptor to hold: the reader keeps the pin until it is closed.
      pinnedByReader = true;
      return remoteReader(meta, files, () => this.blobs.unpin(ids));
    } finally {
      if (!pinnedByReader) this.blobs.unpin(ids);
    }
  }

  private inlineBytes(blobId: string, size: number): Buffer {
    const fits = this.cache.fits(size);
    const hit = fits ? this.cache.get(blobId) : undefined;
    if (hit) return hit;
    const bytes = this.blobs.inlineBytes(blobId);
    if (bytes === undefined) {
      // Replaced by another process since our metadata read: open() reads the metadata again.
      throw Object.assign(new Error(`inline blob ${blobId} is gone`), { code: 'ENOENT' });
    }
    if (fits) this.cache.set(blobId, bytes);
    return bytes;
  }
}
