/**
 * The metadata schema, as numbered migrations applied in order and recorded in
 * offload_migrations. Nodes starting at once are safe: each takes the same advisory lock first,
 * so one applies what is missing and the others then find it done.
 *
 * Keys and bucket names are COLLATE "C": PostgreSQL then compares the UTF-8 bytes, which is S3's
 * listing order. Objects are keyed (bucket, key, version_id) with an is_current flag: one row per
 * S3 version (migration 6); a never-versioned bucket's rows are all the 'null' version.
 */
import type { PgDb } from './db.js';
import { VERSIONS_MIGRATION } from './migration-versions.js';
import { QUOTA_MIGRATION } from './quota.js';

// Any fixed number: the lock is held only while migrating, by whoever holds the database.
const MIGRATION_LOCK = 0x0ff10ad;

/** Slots of the change counter: writers spread over them, so that they do not queue on one row. */
export const CHANGE_SLOTS = 16;

const MIGRATIONS: string[] = [
  // 1: the tables.
  `
  CREATE TABLE buckets (
    name text COLLATE "C" PRIMARY KEY,
    owner text NOT NULL,
    created_at bigint NOT NULL,
    region text NOT NULL,
    acl jsonb NOT NULL
  );
  CREATE TABLE bucket_configs (
    bucket text COLLATE "C" NOT NULL REFERENCES buckets (name) ON DELETE CASCADE,
    kind text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (bucket, kind)
  );
  CREATE SEQUENCE object_revisions;
  CREATE TABLE objects (
    bucket text COLLATE "C" NOT NULL REFERENCES buckets (name),
    key text COLLATE "C" NOT NULL,
    version_id text COLLATE "C" NOT NULL DEFAULT 'null',
    is_current boolean NOT NULL DEFAULT true,
    -- Bumped by every write of the row: the compare-and-swap token of conditional writes.
    revision bigint NOT NULL,
    meta jsonb NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
  );
  CREATE UNIQUE INDEX objects_current ON objects (bucket, key) WHERE is_current;
  -- Blob reference counts; data holds a small blob's bytes (no file). A row with refs = 0 is
  -- either pending (placed, its commit not yet done) or dead (no longer referenced) since
  -- 'since': the collector removes it, and its bytes, once a grace period has passed.
  CREATE TABLE blobs (
    id text PRIMARY KEY,
    size bigint NOT NULL,
    refs integer NOT NULL,
    data bytea,
    since timestamptz
  );
  CREATE INDEX blobs_unreferenced ON blobs (since) WHERE refs <= 0;
  CREATE TABLE uploads (
    upload_id text COLLATE "C" PRIMARY KEY,
    bucket text COLLATE "C" NOT NULL REFERENCES buckets (name),
    key text COLLATE "C" NOT NULL,
    initiated bigint NOT NULL,
    data jsonb NOT NULL
  );
  CREATE INDEX uploads_by_key ON uploads (bucket, key, upload_id);
  CREATE INDEX uploads_by_age ON uploads (initiated);
  CREATE TABLE parts (
    upload_id text COLLATE "C" NOT NULL REFERENCES uploads (upload_id),
    part_number integer NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE TABLE access_keys (
    access_key_id text PRIMARY KEY,
    secret text NOT NULL,
    name text NOT NULL,
    owner text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX access_keys_by_owner ON access_keys (owner);
  -- The change counter every node reads at the start of each request (refresh()).
  CREATE TABLE changes (
    slot integer PRIMARY KEY,
    objects bigint NOT NULL DEFAULT 0,
    buckets bigint NOT NULL DEFAULT 0,
    keys bigint NOT NULL DEFAULT 0
  );
  INSERT INTO changes (slot) SELECT generate_series(0, ${CHANGE_SLOTS - 1});
  `,
  // 2: drop one reference to each blob; those left unreferenced start their grace period.
  `
  CREATE FUNCTION offload_unref(ids text[]) RETURNS void LANGUAGE sql AS $$
    UPDATE blobs SET refs = refs - 1, since = CASE WHEN refs <= 1 THEN now() ELSE since END WHERE id = ANY(ids);
  $$;
  CREATE FUNCTION offload_segment_ids(meta jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(s->>'blobId'), '{}') FROM jsonb_array_elements(coalesce(meta->'segments', '[]')) s;
  $$;
  CREATE FUNCTION offload_changed(what text) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    IF what = 'objects' THEN UPDATE changes SET objects = objects + 1 WHERE slot = pg_backend_pid() % ${CHANGE_SLOTS};
    ELSIF what = 'buckets' THEN UPDATE changes SET buckets = buckets + 1 WHERE slot = 0;
    ELSE UPDATE changes SET keys = keys + 1 WHERE slot = 0;
    END IF;
  END $$;
  `,
  // 3: PutObject in one round trip (one transaction): make p_meta the current version of the key
  // if its revision is still p_expect (-1: whatever it is, 0: absent), register the new blob
  // (inline bytes, or the pending row of a placed file), release the old version's blobs, count
  // the change. Returns 'ok' and the new revision, 'changed' and the current version (the caller
  // evaluates its precondition on it and tries again), or raises 23503 (foreign key) for a missing bucket. A pending blob the
  // collector already reclaimed raises OF001 (nothing is committed).
  `
  CREATE FUNCTION offload_put_row(p_bucket text, p_key text, p_expect bigint, p_meta jsonb, p_blob text, p_size bigint, p_data bytea)
  RETURNS TABLE (out_status text, out_meta jsonb, out_revision bigint) LANGUAGE plpgsql AS $$
  DECLARE
    cur_meta jsonb;
    cur_rev bigint;
    new_rev bigint;
  BEGIN
    LOOP
      SELECT o.meta, o.revision INTO cur_meta, cur_rev FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key AND o.is_current FOR UPDATE;
      IF p_expect >= 0 AND coalesce(cur_rev, 0) <> p_expect THEN
        RETURN QUERY SELECT 'changed'::text, cur_meta, coalesce(cur_rev, 0);
        RETURN;
      END IF;
      new_rev := nextval('object_revisions');
      IF cur_rev IS NULL THEN
        -- The foreign key locks the bucket's row (KEY SHARE) until the commit: a bucket being
        -- deleted meanwhile makes this wait, then fail (23503, NoSuchBucket to the caller).
        INSERT INTO objects (bucket, key, revision, meta) VALUES (p_bucket, p_key, new_rev, p_meta) ON CONFLICT DO NOTHING;
        -- Not inserted: another writer created the key meanwhile; lock its row and look again.
        EXIT WHEN FOUND;
      ELSE
        UPDATE objects SET meta = p_meta, revision = new_rev WHERE bucket = p_bucket AND key = p_key AND is_current;
        EXIT;
      END IF;
    END LOOP;
    IF p_data IS NOT NULL THEN
      INSERT INTO blobs (id, size, refs, data) VALUES (p_blob, p_size, 1, p_data);
    ELSIF p_blob IS NOT NULL THEN
      UPDATE blobs SET refs = 1, since = NULL WHERE id = p_blob AND refs = 0;
      IF NOT FOUND THEN RAISE EXCEPTION 'blob % was reclaimed before its commit', p_blob USING ERRCODE = 'OF001'; END IF;
    END IF;
    IF cur_meta IS NOT NULL THEN PERFORM offload_unref(offload_segment_ids(cur_meta)); END IF;
    RETURN QUERY SELECT 'ok'::text, NULL::jsonb, new_rev;
  END $$;
  CREATE FUNCTION offload_put(p_bucket text, p_key text, p_expect bigint, p_meta jsonb, p_blob text, p_size bigint, p_data bytea)
  RETURNS TABLE (out_status text, out_meta jsonb, out_revision bigint) LANGUAGE plpgsql AS $$
  BEGIN
    RETURN QUERY SELECT * FROM offload_put_row(p_bucket, p_key, p_expect, p_meta, p_blob, p_size, p_data);
    PERFORM offload_changed('objects');
  END $$;
  -- Group commit: the PutObjects that reach the database in the same turn of the event loop, in
  -- one statement and one transaction (one WAL flush for all). Ordered by the caller.
  CREATE FUNCTION offload_put_many(p_bucket text[], p_key text[], p_expect bigint[], p_meta jsonb[], p_blob text[], p_size bigint[], p_data bytea[])
  RETURNS TABLE (out_index integer, out_status text, out_meta jsonb, out_revision bigint) LANGUAGE plpgsql AS $$
  BEGIN
    FOR i IN 1 .. coalesce(array_length(p_bucket, 1), 0) LOOP
      RETURN QUERY SELECT i, r.out_status, r.out_meta, r.out_revision FROM offload_put_row(p_bucket[i], p_key[i], p_expect[i], p_meta[i], p_blob[i], p_size[i], p_data[i]) r;
    END LOOP;
    PERFORM offload_changed('objects');
  END $$;
  -- DeleteObject in one round trip: the deleted version's meta, or NULL when there was none.
  CREATE FUNCTION offload_delete(p_bucket text, p_key text) RETURNS jsonb LANGUAGE plpgsql AS $$
  DECLARE
    v_old jsonb;
  BEGIN
    DELETE FROM objects WHERE bucket = p_bucket AND key = p_key AND is_current RETURNING meta INTO v_old;
    IF v_old IS NOT NULL THEN
      PERFORM offload_unref(offload_segment_ids(v_old));
      PERFORM offload_changed('objects');
    END IF;
    RETURN v_old;
  END $$;
  `,
  // Key scopes (one bucket, read-only or read-write); NULL: no limit, as for keys made before.
  `
  ALTER TABLE access_keys ADD COLUMN scope_bucket text, ADD COLUMN scope_access text;
  `,
  // Usage stats, metrics counters and console sessions, shared by every node (serving/usage-pg.ts,
  // console/session-store-pg.ts). Counters only grow: each node adds its batch with upserts.
  `
  CREATE TABLE usage_hourly (
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    hour integer NOT NULL,
    requests bigint NOT NULL, bytes_out bigint NOT NULL, bytes_in bigint NOT NULL,
    s2xx bigint NOT NULL, s3xx bigint NOT NULL, s4xx bigint NOT NULL, s5xx bigint NOT NULL,
    anonymous bigint NOT NULL, signed bigint NOT NULL, puts bigint NOT NULL, gets bigint NOT NULL,
    PRIMARY KEY (bucket, key, hour)
  );
  CREATE INDEX usage_hourly_by_hour ON usage_hourly (bucket, hour);
  CREATE TABLE usage_referrers (
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    hour integer NOT NULL,
    host text NOT NULL,
    requests bigint NOT NULL,
    PRIMARY KEY (bucket, key, hour, host)
  );
  CREATE INDEX usage_referrers_by_hour ON usage_referrers (bucket, hour);
  CREATE TABLE metrics_requests (
    op text NOT NULL, status integer NOT NULL,
    requests bigint NOT NULL, bytes_in bigint NOT NULL, bytes_out bigint NOT NULL, seconds double precision NOT NULL,
    PRIMARY KEY (op, status)
  );
  CREATE TABLE metrics_latency (op text NOT NULL, bucket integer NOT NULL, count bigint NOT NULL, PRIMARY KEY (op, bucket));
  CREATE TABLE metrics_totals (name text PRIMARY KEY, value bigint NOT NULL);
  CREATE TABLE console_sessions (
    id_hash text PRIMARY KEY,
    access_key_id text NOT NULL,
    csrf_token text NOT NULL,
    created_at bigint NOT NULL,
    last_seen_at bigint NOT NULL
  );
  CREATE INDEX console_sessions_by_key ON console_sessions (access_key_id);
  `,
  // 6: object versions (migration-versions.ts).
  VERSIONS_MIGRATION,
  // 7: bucket quotas kept and checked by triggers (quota.ts).
  QUOTA_MIGRATION,
  // 8: rate-limit use and limit counters shared by every node
  // (serving/limits-pg.ts). rate_use: each node's running total per limit name, `at` the
  // database clock in ms (rows read by it, pruned by it); limit_totals: counters every node adds
  // to ('transfer:YYYY-MM:<bucket>' bytes sent, 'throttled:<reason>' refusals).
  `
  CREATE TABLE IF NOT EXISTS rate_use (
    name text NOT NULL,
    node text NOT NULL,
    used double precision NOT NULL,
    last double precision NOT NULL,
    at double precision NOT NULL,
    PRIMARY KEY (name, node)
  );
  CREATE INDEX IF NOT EXISTS rate_use_by_time ON rate_use (at);
  CREATE TABLE IF NOT EXISTS limit_totals (name text PRIMARY KEY, value double precision NOT NULL);
  `,
  // 9: which master key wraps the cluster's SSE-S3 data keys (its id, never the key), and
  // during a rotation the one before it: a node started with another key is refused
  // (postgres/master-key-record.ts).
  `
  CREATE TABLE master_key_record (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    current_id text NOT NULL,
    previous_id text,
    changed_at timestamptz NOT NULL DEFAULT now()
  );
  `,
];

/** Brings the schema up to date (idempotent; safe while other nodes do the same). */
export async function migrate(db: PgDb): Promise<number> {
  return db.tx(async (sql) => {
    // Transaction-scoped: released by the commit, or by the connection's end if this node dies.
    await sql.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await sql.query('CREATE TABLE IF NOT EXISTS offload_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = await sql.query<{ v: number | null }>('SELECT max(version) AS v FROM offload_migrations');
    const current = done.rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) throw new Error(`the metadata database is at schema version ${current}, newer than this Offload (${MIGRATIONS.length}): upgrade Offload`);
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await sql.query(MIGRATIONS[version - 1]!);
      await sql.query('INSERT INTO offload_migrations (version) VALUES ($1)', [version]);
    }
    return MIGRATIONS.length - current;
  });
}
