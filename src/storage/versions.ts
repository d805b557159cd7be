/**
 * Noncurrent object versions and delete markers: the `versions` table. The current version of a
 * key, when it is an object (not a marker), stays in `objects` (objects.ts), so that GET, HEAD and
 * ListObjects of a versioned bucket cost what they cost without versioning; everything older,
 * and every delete marker, is a row here, ordered within its key newest first (neg_seq ascending).
 *
 * Invariant: a key has an `objects` row only when its latest version is an object; that row is
 * newer than all of the key's rows here. Removing the current version promotes the newest row
 * here when it is an object (a marker stays here and is then the latest version).
 */
import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './schema.js';
import type { ObjectMeta } from './types.js';

export type VersionRow = { key: string; neg_seq: number; version_id: string; marker: number; size: number; since: number; meta: string };

/** The id written for a version: its sequence number (time-ordered) in hex, then randomness, so ids sort like their versions. */
export function newVersionId(seq: number): string {
  return seq.toString(16).padStart(14, '0') + randomBytes(9).toString('base64url');
}

/** Versions of one key are ordered by seq: microseconds since the epoch, bumped past the key's newest. */
export function seqAfter(newest: number | undefined, now = Date.now()): number {
  return Math.max(now * 1000, (newest ?? 0) + 1);
}

/** The seq of a current version written before versioning existed here: its modification time. */
export function seqOf(meta: ObjectMeta): number {
  return meta.seq ?? meta.lastModified * 1000;
}

export class VersionRows {
  readonly sql: {
    insert: Statement;
    byId: Statement<[string, string, string], VersionRow>;
    newest: Statement<[string, string], VersionRow>;
    remove: Statement<[string, string, number]>;
    updateMeta: Statement<[string, string, string, number]>;
    page: Statement<[string, string, number, string, number], VersionRow>;
    any: Statement<[string], { one: number }>;
    removeBucket: Statement<[string]>;
    usage: Statement<[string], { versions: number; markers: number; bytes: number }>;
  };

  constructor(db: Db) {
    this.sql = {
      insert: db.prepare('INSERT INTO versions (bucket, key, neg_seq, version_id, marker, size, since, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      byId: db.prepare('SELECT * FROM versions WHERE bucket = ? AND key = ? AND version_id = ?'),
      newest: db.prepare('SELECT * FROM versions WHERE bucket = ? AND key = ? ORDER BY neg_seq LIMIT 1'),
      remove: db.prepare('DELETE FROM versions WHERE bucket = ? AND key = ? AND neg_seq = ?'),
      updateMeta: db.prepare('UPDATE versions SET meta = ? WHERE bucket = ? AND key = ? AND neg_seq = ?'),
      // Row values use the primary key's order: one index range, never the whole table.
      page: db.prepare('SELECT * FROM versions WHERE bucket = ? AND (key, neg_seq) > (?, ?) AND key >= ? ORDER BY key, neg_seq LIMIT ?'),
      any: db.prepare('SELECT 1 AS one FROM versions WHERE bucket = ? LIMIT 1'),
      removeBucket: db.prepare('DELETE FROM versions WHERE bucket = ?'),
      usage: db.prepare('SELECT COALESCE(SUM(marker = 0), 0) AS versions, COALESCE(SUM(marker), 0) AS markers, COALESCE(SUM(size), 0) AS bytes FROM versions WHERE bucket = ?'),
    };
  }

  /** Inside a transaction: keeps meta as a noncurrent version (or a marker), noncurrent since `since`. */
  insert(meta: ObjectMeta, since: number): void {
    this.sql.insert.run(meta.bucket, meta.key, -seqOf(meta), meta.versionId ?? 'null', meta.deleteMarker ? 1 : 0, meta.size, since, encodeVersion(meta));
  }

  byId(bucket: string, key: string, versionId: string): VersionRow | undefined {
    return this.sql.byId.get(bucket, key, versionId);
  }

  newest(bucket: string, key: string): VersionRow | undefined {
    return this.sql.newest.get(bucket, key);
  }

  remove(bucket: string, row: VersionRow): void {
    this.sql.remove.run(bucket, row.key, row.neg_seq);
  }
}

export function encodeVersion(meta: ObjectMeta): string {
  const { bucket: _bucket, key: _key, ...stored } = meta;
  return JSON.stringify(stored);
}

export function decodeVersion(bucket: string, row: VersionRow): ObjectMeta {
  const stored = JSON.parse(row.meta) as Omit<ObjectMeta, 'bucket' | 'key'>;
  return { ...stored, bucket, key: row.key, seq: -row.neg_seq };
}
