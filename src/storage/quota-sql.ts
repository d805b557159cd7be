/**
 * Bucket quotas on the embedded engine (see quota.ts for what counts): the bucket_quota table and
 * the triggers that keep it, installed by schema migration 2 (schema.ts).
 *
 * SQLite serialises writers (every commit holds the database's write lock), so a trigger that
 * checks and updates the usage inside the writing statement is atomic with the write, across the
 * server's --workers and any other process on the data folder.
 *
 * Only an insert into `objects` (new bytes becoming a current version) is checked. Rows moving
 * between `objects` and `versions` (a version becoming noncurrent, or current again when the one
 * above it is deleted) are counted but never refused: a move does not grow the bucket, and a
 * delete must always be possible. objects.ts moves a row out of `objects` before writing the
 * new current one, and promotes a noncurrent version by inserting it before deleting its
 * `versions` row (the trigger recognises that insert by the version row still being there).
 *
 * The insert trigger runs BEFORE the insert, while a row that INSERT OR REPLACE replaces is still
 * there, and counts the difference: with recursive_triggers off (the default, which schema.ts
 * keeps) REPLACE fires no delete trigger for the replaced row.
 */
import type Database from 'better-sqlite3';
import { quotaExceeded, quotaUseOf, type BucketQuotaUse } from './quota.js';

/** Starts a trigger's refusal, then the bucket and a newline, then the message for the client. */
const REFUSED = 'offload quota: ';

const SIZE = (row: string) => `json_extract(${row}.meta, '$.size')`;
const SAME_KEY = 'bucket = NEW.bucket AND key = NEW.key';
const REPLACED_SIZE = `coalesce((SELECT ${SIZE('objects')} FROM objects WHERE ${SAME_KEY}), 0)`;
const REPLACES = `EXISTS (SELECT 1 FROM objects WHERE ${SAME_KEY})`;
const PROMOTION = `EXISTS (SELECT 1 FROM versions WHERE ${SAME_KEY} AND version_id = coalesce(json_extract(NEW.meta, '$.versionId'), 'null'))`;
const STORED_BYTES = (bucket: string) => `(SELECT coalesce(sum(${SIZE('objects')}), 0) FROM objects WHERE bucket = ${bucket}) + (SELECT coalesce(sum(size), 0) FROM versions WHERE bucket = ${bucket} AND marker = 0)`;
const STORED_OBJECTS = (bucket: string) => `(SELECT count(*) FROM objects WHERE bucket = ${bucket}) + (SELECT count(*) FROM versions WHERE bucket = ${bucket} AND marker = 0)`;
const LIMIT = (doc: string, field: 'maxBytes' | 'maxObjects') => `json_extract(${doc}, '$.${field}')`;
const SETS_QUOTA = (doc: string) => `(${LIMIT(doc, 'maxBytes')} IS NOT NULL OR ${LIMIT(doc, 'maxObjects')} IS NOT NULL)`;

/** Make the bucket's quota row follow a 'limits' document: limits updated, or the row made with the usage counted, or dropped. */
const FOLLOW_LIMITS = `
  DELETE FROM bucket_quota WHERE bucket = NEW.bucket AND NOT ${SETS_QUOTA('NEW.value')};
  UPDATE bucket_quota SET max_bytes = ${LIMIT('NEW.value', 'maxBytes')}, max_objects = ${LIMIT('NEW.value', 'maxObjects')} WHERE bucket = NEW.bucket;
  INSERT INTO bucket_quota (bucket, max_bytes, max_objects, bytes, objects)
    SELECT NEW.bucket, ${LIMIT('NEW.value', 'maxBytes')}, ${LIMIT('NEW.value', 'maxObjects')}, ${STORED_BYTES('NEW.bucket')}, ${STORED_OBJECTS('NEW.bucket')}
    WHERE ${SETS_QUOTA('NEW.value')} AND NOT EXISTS (SELECT 1 FROM bucket_quota WHERE bucket = NEW.bucket);`;

export const QUOTA_SCHEMA = `
CREATE TABLE IF NOT EXISTS bucket_quota (
  bucket TEXT PRIMARY KEY,
  max_bytes INTEGER,
  max_objects INTEGER,
  bytes INTEGER NOT NULL,
  objects INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS quota_objects_insert BEFORE INSERT ON objects
WHEN EXISTS (SELECT 1 FROM bucket_quota WHERE bucket = NEW.bucket)
BEGIN
  SELECT RAISE(ABORT, '${REFUSED}' || NEW.bucket || char(10) || 'The write would take the bucket past its quota of ' || q.max_bytes || ' bytes (' || q.bytes || ' stored).')
    FROM bucket_quota q, (SELECT ${SIZE('NEW')} - ${REPLACED_SIZE} AS grows) d
    WHERE q.bucket = NEW.bucket AND q.max_bytes IS NOT NULL AND d.grows > 0 AND q.bytes + d.grows > q.max_bytes AND NOT ${PROMOTION};
  SELECT RAISE(ABORT, '${REFUSED}' || NEW.bucket || char(10) || 'The write would take the bucket past its quota of ' || q.max_objects || ' objects.')
    FROM bucket_quota q
    WHERE q.bucket = NEW.bucket AND q.max_objects IS NOT NULL AND NOT ${REPLACES} AND q.objects + 1 > q.max_objects AND NOT ${PROMOTION};
  UPDATE bucket_quota SET bytes = bytes + ${SIZE('NEW')} - ${REPLACED_SIZE}, objects = objects + (NOT ${REPLACES}) WHERE bucket = NEW.bucket;
END;
CREATE TRIGGER IF NOT EXISTS quota_objects_delete AFTER DELETE ON objects
WHEN EXISTS (SELECT 1 FROM bucket_quota WHERE bucket = OLD.bucket)
BEGIN
  UPDATE bucket_quota SET bytes = bytes - ${SIZE('OLD')}, objects = objects - 1 WHERE bucket = OLD.bucket;
END;
CREATE TRIGGER IF NOT EXISTS quota_objects_update AFTER UPDATE OF meta ON objects
WHEN ${SIZE('NEW')} IS NOT ${SIZE('OLD')} AND EXISTS (SELECT 1 FROM bucket_quota WHERE bucket = NEW.bucket)
BEGIN
  UPDATE bucket_quota SET bytes = bytes + ${SIZE('NEW')} - ${SIZE('OLD')} WHERE bucket = NEW.bucket;
END;

CREATE TRIGGER IF NOT EXISTS quota_versions_insert AFTER INSERT ON versions
WHEN NEW.marker = 0 AND EXISTS (SELECT 1 FROM bucket_quota WHERE bucket = NEW.bucket)
BEGIN
  UPDATE bucket_quota SET bytes = bytes + NEW.size, objects = objects + 1 WHERE bucket = NEW.bucket;
END;
CREATE TRIGGER IF NOT EXISTS quota_versions_delete AFTER DELETE ON versions
WHEN OLD.marker = 0 AND EXISTS (SELECT 1 FROM bucket_quota WHERE bucket = OLD.bucket)
BEGIN
  UPDATE bucket_quota SET bytes = bytes - OLD.size, objects = objects - 1 WHERE bucket = OLD.bucket;
END;

CREATE TRIGGER IF NOT EXISTS quota_limits_insert AFTER INSERT ON bucket_configs WHEN NEW.kind = 'limits'
BEGIN ${FOLLOW_LIMITS}
END;
CREATE TRIGGER IF NOT EXISTS quota_limits_update AFTER UPDATE ON bucket_configs WHEN NEW.kind = 'limits'
BEGIN ${FOLLOW_LIMITS}
END;
CREATE TRIGGER IF NOT EXISTS quota_limits_delete AFTER DELETE ON bucket_configs WHEN OLD.kind = 'limits'
BEGIN
  DELETE FROM bucket_quota WHERE bucket = OLD.bucket;
END;
`;

/** Quota rows for the 'limits' documents already set (a data folder from before quotas were kept here). */
export const QUOTA_BACKFILL = `
INSERT OR IGNORE INTO bucket_quota (bucket, max_bytes, max_objects, bytes, objects)
  SELECT c.bucket, ${LIMIT('c.value', 'maxBytes')}, ${LIMIT('c.value', 'maxObjects')}, ${STORED_BYTES('c.bucket')}, ${STORED_OBJECTS('c.bucket')}
  FROM bucket_configs c WHERE c.kind = 'limits' AND ${SETS_QUOTA('c.value')};`;

type QuotaRow = { bucket: string; bytes: number; objects: number; max_bytes: number | null; max_objects: number | null };

export class SqliteQuotas {
  private readonly one: Database.Statement<[string], QuotaRow>;
  private readonly all: Database.Statement<[], QuotaRow>;

  constructor(db: Database.Database) {
    this.one = db.prepare('SELECT * FROM bucket_quota WHERE bucket = ?');
    this.all = db.prepare('SELECT * FROM bucket_quota ORDER BY bucket');
  }

  usage(bucket?: string): BucketQuotaUse[] {
    return (bucket === undefined ? this.all.all() : this.one.all(bucket)).map(quotaUseOf);
  }

  /** A write's promise with a quota trigger's refusal turned into the S3 error. */
  static async refusals<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (err) {
      const { code, message } = err as { code?: unknown; message?: unknown };
      if (code !== 'SQLITE_CONSTRAINT_TRIGGER' || typeof message !== 'string' || !message.startsWith(REFUSED)) throw err;
      const newline = message.indexOf('\n');
      throw quotaExceeded(message.slice(REFUSED.length, newline), message.slice(newline + 1));
    }
  }
}
