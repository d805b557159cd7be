/**
 * Small hot objects kept in memory (the mod_file_cache idea). Entries are keyed by blob id, and
 * blobs are immutable, so an entry can never be stale: an overwrite makes a new blob, and the
 * metadata read on every request names the one to serve. Least recently used entries go first.
 */
export interface BlobCacheOptions {
  /** Largest object kept (default 1 MiB). */
  maxObjectBytes?: number;
  /** Total budget (default 64 MiB, `offload serve --hot-cache`); 0 disables the cache. */
  maxTotalBytes?: number;
}

export class BlobCache {
  readonly maxObjectBytes: number;
  private readonly maxTotalBytes: number;
  private readonly entries = new Map<string, Buffer>();
  private total = 0;
  hits = 0;
  misses = 0;

  constructor(options: BlobCacheOptions = {}) {
    this.maxObjectBytes = options.maxObjectBytes ?? 1024 * 1024;
    this.maxTotalBytes = options.maxTotalBytes ?? 64 * 1024 * 1024;
  }

  fits(size: number): boolean {
    return this.maxTotalBytes > 0 && size <= this.maxObjectBytes;
  }

  get(blobId: string): Buffer | undefined {
    const hit = this.entries.get(blobId);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    return this.touch(blobId, hit);
  }

  /** Like get(), but an absent entry is not counted as a miss (the caller falls back to get()). */
  getIfCached(blobId: string): Buffer | undefined {
    const hit = this.entries.get(blobId);
    return hit === undefined ? undefined : this.touch(blobId, hit);
  }

  private touch(blobId: string, hit: Buffer): Buffer {
    this.hits++;
    // Re-inserting moves the entry to the young end of the Map's order.
    this.entries.delete(blobId);
    this.entries.set(blobId, hit);
    return hit;
  }

  set(blobId: string, bytes: Buffer): void {
    if (!this.fits(bytes.length) || this.entries.has(blobId)) return;
    this.entries.set(blobId, bytes);
    this.total += bytes.length;
    for (const [id, old] of this.entries) {
      if (this.total <= this.maxTotalBytes) break;
      this.entries.delete(id);
      this.total -= old.length;
    }
  }

  /** Frees memory early when a blob is reclaimed (correctness never depends on it). */
  drop(blobId: string): void {
    const old = this.entries.get(blobId);
    if (old !== undefined) {
      this.entries.delete(blobId);
      this.total -= old.length;
    }
  }
}
