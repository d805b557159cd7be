/**
 * What a node keeps of the shared metadata between requests, and how it stays current:
 * refresh(), at the start of every request, reads the change counter in one round trip, and in
 * the same statement the buckets and their configurations when the bucket counter moved. Any
 * movement bumps `generation` and drops the object metadata cached here, so that nothing
 * another node committed before this request began is answered stale.
 *
 * The counter is updated inside each writing transaction, so it moves exactly when the write
 * becomes visible. A read that started before a bump must not fill the cache after it: entries
 * are stored only if the generation is still the one the read began under.
 */
import type { PgDb } from './db.js';
import type { Acl, BucketConfigKind, BucketInfo, ObjectMeta } from '../types.js';

const MAX_CACHED_METAS = 10_000;

type BucketRow = { name: string; owner: string; created_at: string; region: string; acl: Acl };
type ConfigRow = { bucket: string; kind: string; value: string };
type RefreshRow = { objects: string; buckets: string; keys: string; bucket_rows: BucketRow[] | null; config_rows: ConfigRow[] | null };

const REFRESH = `
SELECT c.objects::text, c.buckets::text, c.keys::text,
  CASE WHEN c.buckets::text IS DISTINCT FROM $1 THEN (SELECT coalesce(json_agg(b ORDER BY b.name), '[]') FROM buckets b) END AS bucket_rows,
  CASE WHEN c.buckets::text IS DISTINCT FROM $1 THEN (SELECT coalesce(json_agg(g), '[]') FROM bucket_configs g) END AS config_rows
FROM (SELECT sum(objects) AS objects, sum(buckets) AS buckets, sum(keys) AS keys FROM changes) c`;

export class PgState {
  generation = 0;
  private seen = { objects: '', buckets: '', keys: '' };
  private buckets = new Map<string, BucketInfo>();
  private configs = new Map<string, string>();
  private readonly metas = new Map<string, { meta: ObjectMeta | null; revision: number }>();
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Called when another process changed the access keys (PgKeyStore reloads them). */
  onKeysChanged: (() => Promise<void>) | undefined;

  constructor(private readonly db: PgDb) {}

  /**
   * Every caller gets a read that started after it called: a refresh already under way may have
   * read the counter before this caller's request arrived, so callers during one wait for the next.
   */
  refresh(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.load().finally(() => (this.inFlight = undefined));
      return this.inFlight;
    }
    this.queued ??= this.inFlight.catch(() => undefined).then(() => {
      this.queued = undefined;
      return this.refresh();
    });
    return this.queued;
  }

  private async load(): Promise<void> {
    const { rows } = await this.db.read<RefreshRow>(REFRESH, [this.seen.buckets]);
    const row = rows[0]!;
    if (row.bucket_rows && row.config_rows) {
      this.buckets = new Map(row.bucket_rows.map((b) => [b.name, { name: b.name, owner: b.owner, createdAt: Number(b.created_at), region: b.region, acl: b.acl }]));
      this.configs = new Map(row.config_rows.map((c) => [`${c.bucket}\0${c.kind}`, c.value]));
    }
    if (row.objects !== this.seen.objects || row.buckets !== this.seen.buckets) {
      this.generation++;
      this.metas.clear();
    }
    const keysMoved = row.keys !== this.seen.keys;
    this.seen = { objects: row.objects, buckets: row.buckets, keys: row.keys };
    if (keysMoved) await this.onKeysChanged?.();
  }

  /** After this process wrote a bucket or its configuration: read the bucket state again now. */
  async bucketsChanged(): Promise<void> {
    this.generation++;
    this.metas.clear();
    await this.refresh();
  }

  /** After this process committed a write of one key. */
  objectChanged(bucket: string, key: string): void {
    this.generation++;
    this.metas.delete(`${bucket}\0${key}`);
  }

  bucket(name: string): BucketInfo | undefined {
    return this.buckets.get(name);
  }

  listBuckets(): BucketInfo[] {
    return [...this.buckets.values()];
  }

  config(name: string, kind: BucketConfigKind): string | undefined {
    return this.configs.get(`${name}\0${kind}`);
  }

  /** The cached version of a key: meta null when known absent; undefined when not cached. */
  cachedObject(bucket: string, key: string): { meta: ObjectMeta | null; revision: number } | undefined {
    return this.metas.get(`${bucket}\0${key}`);
  }

  /** Caches what a read that began at `generation` found, unless something changed since. */
  cacheObject(bucket: string, key: string, meta: ObjectMeta | undefined, revision: number, generation: number): void {
    if (generation !== this.generation) return;
    if (this.metas.size >= MAX_CACHED_METAS) this.metas.clear();
    this.metas.set(`${bucket}\0${key}`, { meta: meta ? Object.freeze(meta) : null, revision });
  }
}
