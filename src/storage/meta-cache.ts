/**
 * Metadata cached per process. Bucket rows and configurations are read on every request and
 * change rarely; object metadata is read on every GET and HEAD. All of it is dropped when this
 * process writes it (per key, or wholesale for buckets) and wholesale when refresh() sees another
 * connection's commit (SQLite's data_version). Object entries are frozen, since callers share them.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './schema.js';
import type { BucketInfo, ObjectMeta } from './types.js';

// Each object entry, with the response headers built for it, is about a kilobyte of heap; clients
// that HEAD every object they upload (rclone) filled 100,000 entries with cold ones, about 20 MB
// of the server's memory in the benchmark's syncs.
const MAX_CACHED_METAS = 10_000;
const MAX_CACHED_BUCKETS = 10_000;

export class MetaCache {
  /**
   * Bumped whenever something cached from the database may have changed: this process's own
   * writes (per key or per bucket) and other processes' commits seen by refresh().
   */
  generation = 0;
  private dataVersion = -1;
  private readonly buckets = new Map<string, BucketInfo | null>();
  private readonly configs = new Map<string, string | null>();
  private readonly metas = new Map<string, ObjectMeta | null>();
  private readonly dataVersionOf: Statement<[], number>;

  /** soleWriter: no other process writes buckets and objects here, so refresh() need not ask SQLite. */
  constructor(db: Db, private readonly soleWriter = false) {
    this.dataVersionOf = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  refresh(): void {
    if (this.soleWriter) return;
    const version = this.dataVersionOf.get()!;
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      this.forgetAll();
    }
  }

  /** After this process changed buckets or their configuration. */
  forgetAll(): void {
    this.generation++;
    this.buckets.clear();
    this.configs.clear();
    this.metas.clear();
  }

  forgetObject(bucket: string, key: string): void {
    this.generation++;
    this.metas.delete(`${bucket}\0${key}`);
  }

  /** The cached bucket: null when known absent, undefined when not cached. */
  bucket(name: string): BucketInfo | null | undefined {
    return this.buckets.get(name);
  }

  setBucket(name: string, info: BucketInfo | undefined): void {
    if (this.buckets.size > MAX_CACHED_BUCKETS) this.buckets.clear();
    this.buckets.set(name, info ?? null);
  }

  config(id: string): string | null | undefined {
    return this.configs.get(id);
  }

  setConfig(id: string, value: string | undefined): void {
    if (this.configs.size > MAX_CACHED_BUCKETS) this.configs.clear();
    this.configs.set(id, value ?? null);
  }

  object(bucket: string, key: string): ObjectMeta | null | undefined {
    return this.metas.get(`${bucket}\0${key}`);
  }

  setObject(bucket: string, key: string, meta: ObjectMeta | undefined): void {
    if (this.metas.size >= MAX_CACHED_METAS) this.metas.clear();
    this.metas.set(`${bucket}\0${key}`, meta ? Object.freeze(meta) : null);
  }
}
