/**
 * Reading object versions in PostgreSQL: one version by id, the latest even when it is a delete
 * marker, ListObjectVersions (one index, objects_versions: key ascending, newest first, read a
 * batch at a time from the page's position through the shared loop of version-listing.ts), and
 * the bytes current and noncurrent versions hold. The writes are in objects.ts and the SQL
 * functions of migrations.ts (entry 6).
 */
import { StoreError, type ListVersionsInput, type ListVersionsResult, type ObjectMeta, type VersionSelector, type VersionUsage } from '../types.js';
import { listVersions, type VersionSource } from '../version-listing.js';
import type { PgDb } from './db.js';
import { decodeMeta, type PgObjects } from './objects.js';
import type { PgState } from './state.js';

type StoredMeta = Omit<ObjectMeta, 'bucket' | 'key'>;
type VersionRow = { key: string; seq: string; meta: StoredMeta };

// Within a key the listing position is -seq (newest first): rows after (key $2, position -$4).
// ORDER BY names the table's columns: a bare "seq" would be the text the SELECT makes of it.
export const VERSION_PAGE = `SELECT o.key, o.seq::text, o.meta FROM objects o WHERE o.bucket = $1 AND o.key >= $2 AND o.key >= $3 AND (o.key > $2 OR o.seq < $4)
  ORDER BY o.key, o.seq DESC LIMIT $5`;

export class PgVersions {
  constructor(private readonly db: PgDb, private readonly state: PgState, private readonly objects: PgObjects) {}

  /** The version a selector names: the current object, the latest version even if a marker, or one by id. */
  async head(bucket: string, key: string, version: VersionSelector = {}): Promise<ObjectMeta | undefined> {
    if (version.versionId === undefined) {
      const current = await this.objects.head(bucket, key);
      if (current || !version.latestEvenIfMarker) return current;
      const { rows } = await this.db.read<{ meta: StoredMeta }>('SELECT meta FROM objects WHERE bucket = $1 AND key = $2 ORDER BY seq DESC LIMIT 1', [bucket, key]);
      return rows[0] && decodeMeta(bucket, key, rows[0].meta);
    }
    // The current object is often the one asked for, and often cached.
    const cached = this.state.cachedObject(bucket, key)?.meta;
    if (cached && (cached.versionId ?? 'null') === version.versionId) return cached;
    const { rows } = await this.db.read<{ meta: StoredMeta }>('SELECT meta FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3', [bucket, key, version.versionId]);
    return rows[0] && decodeMeta(bucket, key, rows[0].meta);
  }

  async list(input: ListVersionsInput): Promise<ListVersionsResult> {
    const { bucket } = input;
    if (!this.state.bucket(bucket)) throw new StoreError('NoSuchBucket');
    const source: VersionSource<VersionRow> = {
      fetch: async (after, from, limit) => (await this.db.read<VersionRow>(VERSION_PAGE, [bucket, after.key, from, String(-after.pos), limit])).rows,
      keyOf: (row) => row.key,
      posOf: (row) => -Number(row.seq),
      decode: (row) => ({ ...decodeMeta(bucket, row.key, row.meta), seq: Number(row.seq) }),
      positionOf: async (key, versionId) => {
        const { rows } = await this.db.read<{ seq: string }>('SELECT seq::text FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3', [bucket, key, versionId]);
        return rows[0] && -Number(rows[0].seq);
      },
    };
    return listVersions(source, input);
  }

  async usage(bucket: string): Promise<VersionUsage> {
    const { rows } = await this.db.read<Record<keyof VersionUsage, string>>(
      `SELECT coalesce(sum((meta->>'size')::bigint) FILTER (WHERE is_current), 0)::text AS "currentBytes",
              count(*) FILTER (WHERE is_current)::text AS "currentObjects",
              coalesce(sum((meta->>'size')::bigint) FILTER (WHERE NOT is_current AND NOT marker), 0)::text AS "noncurrentBytes",
              count(*) FILTER (WHERE NOT is_current AND NOT marker)::text AS "noncurrentVersions",
              count(*) FILTER (WHERE marker)::text AS "deleteMarkers"
       FROM objects WHERE bucket = $1`,
      [bucket],
    );
    const r = rows[0]!;
    return { currentBytes: Number(r.currentBytes), currentObjects: Number(r.currentObjects), noncurrentBytes: Number(r.noncurrentBytes), noncurrentVersions: Number(r.noncurrentVersions), deleteMarkers: Number(r.deleteMarkers) };
  }
}
