/**
 * Bucket quotas on PostgreSQL (see ../quota.ts for what counts): migration 7 makes the
 * bucket_quota table and its triggers.
 *
 * One row trigger on `objects` adjusts the bucket's usage by what the row change adds or takes
 * away (a row's weight: its size and one object, nothing for a delete marker) and refuses a change
 * that adds while the usage is past a limit (SQLSTATE OF002, the message naming the limit, the
 * bucket in DETAIL). The UPDATE of the quota row locks it until the commit, so racing writers
 * of one bucket, on any node, take their turn at it: the check and the change are atomic with the
 * write. A version moving between current and noncurrent (is_current) keeps its weight: never
 * refused. Writes to buckets without a quota row find none to update: nothing else happens.
 *
 * The quota row follows the 'limits' configuration by a trigger on bucket_configs. Made for the
 * first time, it counts the bucket's rows with object writes held off (a SHARE lock on objects
 * until that transaction commits, normally milliseconds), so that no write is missed or counted
 * twice.
 */
import type { PgDb } from './db.js';
import { quotaExceeded, quotaUseOf, type BucketQuotaUse } from '../quota.js';

export const QUOTA_STATE = 'OF002';

const WEIGHT_BYTES = (meta: string) => `CASE WHEN ${meta}->>'deleteMarker' = 'true' THEN 0 ELSE coalesce((${meta}->>'size')::bigint, 0) END`;
const WEIGHT_OBJECTS = (meta: string) => `CASE WHEN ${meta}->>'deleteMarker' = 'true' THEN 0 ELSE 1 END`;

// Migration 7 (helper "quotas").
export const QUOTA_MIGRATION = `
  CREATE TABLE bucket_quota (
    bucket text COLLATE "C" PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    max_bytes numeric,
    max_objects numeric,
    bytes bigint NOT NULL,
    objects bigint NOT NULL
  );
  CREATE FUNCTION offload_quota_count(p_bucket text, p_limits text) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE
    v jsonb := p_limits::jsonb;
  BEGIN
    IF v->'maxBytes' IS NULL AND v->'maxObjects' IS NULL THEN
      DELETE FROM bucket_quota WHERE bucket = p_bucket;
      RETURN;
    END IF;
    UPDATE bucket_quota SET max_bytes = (v->>'maxBytes')::numeric, max_objects = (v->>'maxObjects')::numeric WHERE bucket = p_bucket;
    IF FOUND THEN RETURN; END IF;
    -- First quota of the bucket: count its rows with object writes held off until the commit.
    LOCK TABLE objects IN SHARE MODE;
    INSERT INTO bucket_quota (bucket, max_bytes, max_objects, bytes, objects)
      SELECT p_bucket, (v->>'maxBytes')::numeric, (v->>'maxObjects')::numeric, coalesce(sum(${WEIGHT_BYTES('o.meta')}), 0), coalesce(sum(${WEIGHT_OBJECTS('o.meta')}), 0)
      FROM objects o WHERE o.bucket = p_bucket;
  END $$;
  CREATE FUNCTION offload_quota_limits() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      IF OLD.kind = 'limits' THEN DELETE FROM bucket_quota WHERE bucket = OLD.bucket; END IF;
    ELSIF NEW.kind = 'limits' THEN
      PERFORM offload_quota_count(NEW.bucket, NEW.value);
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER bucket_configs_quota AFTER INSERT OR UPDATE OR DELETE ON bucket_configs FOR EACH ROW EXECUTE FUNCTION offload_quota_limits();
  CREATE FUNCTION offload_quota_objects() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    d_bytes bigint := 0;
    d_objects bigint := 0;
    v_bucket text;
    q bucket_quota;
  BEGIN
    IF TG_OP <> 'INSERT' THEN
      d_bytes := -${WEIGHT_BYTES('OLD.meta')};
      d_objects := -${WEIGHT_OBJECTS('OLD.meta')};
      v_bucket := OLD.bucket;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      d_bytes := d_bytes + ${WEIGHT_BYTES('NEW.meta')};
      d_objects := d_objects + ${WEIGHT_OBJECTS('NEW.meta')};
      v_bucket := NEW.bucket;
    END IF;
    IF d_bytes = 0 AND d_objects = 0 THEN RETURN NULL; END IF;
    UPDATE bucket_quota SET bytes = bytes + d_bytes, objects = objects + d_objects WHERE bucket = v_bucket RETURNING * INTO q;
    IF NOT FOUND THEN RETURN NULL; END IF;
    IF d_bytes > 0 AND q.bytes > q.max_bytes THEN
      RAISE EXCEPTION 'The write would take the bucket past its quota of % bytes (% stored).', q.max_bytes, q.bytes - d_bytes USING ERRCODE = '${QUOTA_STATE}', DETAIL = v_bucket;
    END IF;
    IF d_objects > 0 AND q.objects > q.max_objects THEN
      RAISE EXCEPTION 'The write would take the bucket past its quota of % objects.', q.max_objects USING ERRCODE = '${QUOTA_STATE}', DETAIL = v_bucket;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER objects_quota AFTER INSERT OR UPDATE OR DELETE ON objects FOR EACH ROW EXECUTE FUNCTION offload_quota_objects();
  -- Quotas set before this migration.
  SELECT offload_quota_count(bucket, value) FROM bucket_configs WHERE kind = 'limits';
`;

type QuotaRow = { bucket: string; bytes: string; objects: string; max_bytes: string | null; max_objects: string | null };

export async function pgQuotaUsage(db: PgDb, bucket?: string): Promise<BucketQuotaUse[]> {
  const { rows } = bucket === undefined
    ? await db.read<QuotaRow>('SELECT * FROM bucket_quota ORDER BY bucket')
    : await db.read<QuotaRow>('SELECT * FROM bucket_quota WHERE bucket = $1', [bucket]);
  return rows.map(quotaUseOf);
}

/** A write's promise with the quota trigger's refusal turned into the S3 error. */
export async function pgQuotaRefusals<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const e = err as { code?: unknown; message?: string; detail?: string };
    if (e.code === QUOTA_STATE) throw quotaExceeded(e.detail ?? '', e.message ?? '');
    throw err;
  }
}
