/**
 * Migration 6 (pg-versions): object versions on PostgreSQL metadata. Every version of a key is
 * a row of `objects`: is_current marks the current object (never a delete marker, so GET, HEAD
 * and ListObjects read as before), markers and noncurrent versions are the other rows, ordered
 * by seq (newest first). Versioned writes of one key queue on a transaction-scoped advisory lock
 * of the key, also when it has no current row (a key whose latest version is a marker).
 */

/** The first key of the two-key advisory locks that queue the versioned writes of one object key. */
const KEY_LOCK_SPACE = 0x0ff1;

export const VERSIONS_MIGRATION = `
  ALTER TABLE objects ADD COLUMN seq bigint NOT NULL DEFAULT 0, ADD COLUMN marker boolean NOT NULL DEFAULT false,
    ADD COLUMN since bigint, ADD COLUMN modified bigint NOT NULL DEFAULT 0;
  UPDATE objects SET seq = (meta->>'lastModified')::bigint * 1000, modified = (meta->>'lastModified')::bigint;
  -- ListObjectVersions' order (key ascending, newest first), and "the newest version of a key".
  CREATE INDEX objects_versions ON objects (bucket, key, seq DESC);
  -- The lifecycle sweep's: current versions by age, noncurrent ones by when they stopped being current, markers.
  CREATE INDEX objects_by_age ON objects (bucket, modified, key) WHERE is_current;
  CREATE INDEX objects_noncurrent_by_age ON objects (bucket, since, key, seq) WHERE NOT is_current AND NOT marker;
  CREATE INDEX objects_markers ON objects (bucket, since, key, seq) WHERE marker;

  CREATE FUNCTION offload_versioning(p_bucket text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT value FROM bucket_configs WHERE bucket = p_bucket AND kind = 'versioning' AND value IN ('Enabled', 'Suspended');
  $$;
  -- The two-key form: a lock space of its own, apart from the migration and lifecycle locks.
  CREATE FUNCTION offload_lock_key(p_bucket text, p_key text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(${KEY_LOCK_SPACE}, hashtext(p_bucket || '/' || p_key));
  $$;

  -- A version's row locked for a read-modify-write (the key's lock first, as every versioned
  -- write takes it): the current object when p_version is NULL, else the version by id.
  CREATE FUNCTION offload_lock_version(p_bucket text, p_key text, p_version text)
  RETURNS TABLE (out_meta jsonb, out_revision bigint, out_version text, out_current boolean, out_marker boolean) LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM offload_lock_key(p_bucket, p_key);
    IF p_version IS NULL THEN
      RETURN QUERY SELECT o.meta, o.revision, o.version_id::text, o.is_current, o.marker FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key AND o.is_current FOR UPDATE;
    ELSE
      RETURN QUERY SELECT o.meta, o.revision, o.version_id::text, o.is_current, o.marker FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key AND o.version_id = p_version FOR UPDATE;
    END IF;
  END $$;

  -- Makes p_meta (an object, or a delete marker when p_marker) the latest version of its key as
  -- the bucket's versioning state says, if the current object's revision is still p_expect (-1:
  -- whatever it is, 0: absent). Never versioned: the object is replaced. Enabled: the current
  -- object becomes noncurrent and the new version gets a time-ordered id. Suspended: the new
  -- version is the null version; the old null version goes, wherever it was. Releases the blobs
  -- of what goes. Returns 'ok' with the stored meta (its versionId, seq) and revision, or
  -- 'changed' with the current object. Counting the change is the caller's.
  CREATE FUNCTION offload_replace(p_bucket text, p_key text, p_expect bigint, p_meta jsonb, p_marker boolean)
  RETURNS TABLE (out_status text, out_meta jsonb, out_revision bigint) LANGUAGE plpgsql AS $$
  DECLARE
    v_state text := offload_versioning(p_bucket);
    v_now bigint := (p_meta->>'lastModified')::bigint;
    cur_meta jsonb;
    cur_rev bigint;
    cur_seq bigint;
    cur_vid text;
    v_newest bigint;
    v_seq bigint;
    v_rev bigint;
    v_vid text := 'null';
    v_meta jsonb;
    v_old jsonb;
  BEGIN
    IF v_state IS NULL AND NOT p_marker THEN
      LOOP
        SELECT o.meta, o.revision, o.seq INTO cur_meta, cur_rev, cur_seq FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key AND o.is_current FOR UPDATE;
        IF p_expect >= 0 AND coalesce(cur_rev, 0) <> p_expect THEN
          RETURN QUERY SELECT 'changed'::text, cur_meta, coalesce(cur_rev, 0);
          RETURN;
        END IF;
        v_rev := nextval('object_revisions');
        v_seq := greatest(v_now * 1000, coalesce(cur_seq, 0) + 1);
        v_meta := (p_meta - 'versionId') || jsonb_build_object('seq', v_seq);
        IF cur_rev IS NULL THEN
          -- The foreign key locks the bucket's row (KEY SHARE) until the commit: a bucket being
          -- deleted meanwhile makes this wait, then fail (23503, NoSuchBucket to the caller).
          INSERT INTO objects (bucket, key, revision, meta, seq, modified) VALUES (p_bucket, p_key, v_rev, v_meta, v_seq, v_now) ON CONFLICT DO NOTHING;
          -- Not inserted: another writer created the key meanwhile; lock its row and look again.
          EXIT WHEN FOUND;
        ELSE
          UPDATE objects SET meta = v_meta, revision = v_rev, seq = v_seq, modified = v_now WHERE bucket = p_bucket AND key = p_key AND is_current;
          EXIT;
        END IF;
      END LOOP;
      IF cur_meta IS NOT NULL THEN PERFORM offload_unref(offload_segment_ids(cur_meta)); END IF;
      RETURN QUERY SELECT 'ok'::text, v_meta, v_rev;
      RETURN;
    END IF;
    PERFORM offload_lock_key(p_bucket, p_key);
    SELECT o.meta, o.revision, o.version_id INTO cur_meta, cur_rev, cur_vid FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key AND o.is_current FOR UPDATE;
    IF p_expect >= 0 AND coalesce(cur_rev, 0) <> p_expect THEN
      RETURN QUERY SELECT 'changed'::text, cur_meta, coalesce(cur_rev, 0);
      RETURN;
    END IF;
    SELECT max(o.seq) INTO v_newest FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key;
    v_seq := greatest(v_now * 1000, coalesce(v_newest, 0) + 1);
    v_rev := nextval('object_revisions');
    -- The hex seq first: ids sort like their versions; the random tail makes them unguessable.
    IF v_state = 'Enabled' THEN v_vid := lpad(to_hex(v_seq), 14, '0') || substr(md5(random()::text || clock_timestamp()::text), 1, 12); END IF;
    IF cur_rev IS NOT NULL THEN
      IF v_state = 'Suspended' AND cur_vid = 'null' THEN
        DELETE FROM objects WHERE bucket = p_bucket AND key = p_key AND is_current;
        PERFORM offload_unref(offload_segment_ids(cur_meta));
      ELSE
        UPDATE objects SET is_current = false, since = v_now WHERE bucket = p_bucket AND key = p_key AND is_current;
      END IF;
    END IF;
    IF v_state = 'Suspended' THEN
      DELETE FROM objects WHERE bucket = p_bucket AND key = p_key AND version_id = 'null' RETURNING meta INTO v_old;
      IF v_old IS NOT NULL THEN PERFORM offload_unref(offload_segment_ids(v_old)); END IF;
    END IF;
    v_meta := (p_meta - 'versionId' - 'deleteMarker') || jsonb_build_object('seq', v_seq);
    IF v_vid <> 'null' THEN v_meta := v_meta || jsonb_build_object('versionId', v_vid); END IF;
    IF p_marker THEN v_meta := v_meta || '{"deleteMarker": true}'::jsonb; END IF;
    INSERT INTO objects (bucket, key, version_id, is_current, revision, meta, seq, marker, since, modified)
      VALUES (p_bucket, p_key, v_vid, NOT p_marker, v_rev, v_meta, v_seq, p_marker, CASE WHEN p_marker THEN v_now END, v_now);
    RETURN QUERY SELECT 'ok'::text, v_meta, v_rev;
  END $$;

  -- PutObject (migration 3's contract, now through offload_replace): the stored meta comes back in out_meta.
  CREATE OR REPLACE FUNCTION offload_put_row(p_bucket text, p_key text, p_expect bigint, p_meta jsonb, p_blob text, p_size bigint, p_data bytea)
  RETURNS TABLE (out_status text, out_meta jsonb, out_revision bigint) LANGUAGE plpgsql AS $$
  DECLARE
    r record;
  BEGIN
    SELECT * INTO r FROM offload_replace(p_bucket, p_key, p_expect, p_meta, false);
    IF r.out_status = 'ok' THEN
      IF p_data IS NOT NULL THEN
        INSERT INTO blobs (id, size, refs, data) VALUES (p_blob, p_size, 1, p_data);
      ELSIF p_blob IS NOT NULL THEN
        UPDATE blobs SET refs = 1, since = NULL WHERE id = p_blob AND refs = 0;
        IF NOT FOUND THEN RAISE EXCEPTION 'blob % was reclaimed before its commit', p_blob USING ERRCODE = 'OF001'; END IF;
      END IF;
    END IF;
    RETURN QUERY SELECT r.out_status, r.out_meta, r.out_revision;
  END $$;

  -- DeleteObject in one round trip. Without p_version: removes the object (never versioned) or
  -- writes a delete marker (owned by the owner of the version it hides); with it: removes exactly
  -- that version, and the newest remaining one becomes current if it is an object. Returns the
  -- removed version or the marker (NULL: there was none), the change counted.
  CREATE FUNCTION offload_delete_version(p_bucket text, p_key text, p_version text, p_now bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
  DECLARE
    v_old jsonb;
    v_owner text;
  BEGIN
    IF p_version IS NULL AND offload_versioning(p_bucket) IS NULL THEN RETURN offload_delete(p_bucket, p_key); END IF;
    PERFORM offload_lock_key(p_bucket, p_key);
    IF p_version IS NULL THEN
      SELECT o.meta->>'owner' INTO v_owner FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key ORDER BY o.seq DESC LIMIT 1;
      SELECT r.out_meta INTO v_old FROM offload_replace(p_bucket, p_key, -1, jsonb_build_object('size', 0, 'etag', '', 'lastModified', p_now,
        'owner', coalesce(v_owner, ''), 'acl', '{"canned": "private"}'::jsonb, 'tags', '{}'::jsonb, 'userMeta', '{}'::jsonb, 'segments', '[]'::jsonb), true) r;
    ELSE
      DELETE FROM objects WHERE bucket = p_bucket AND key = p_key AND version_id = p_version RETURNING meta INTO v_old;
      IF v_old IS NULL THEN RETURN NULL; END IF;
      PERFORM offload_unref(offload_segment_ids(v_old));
      IF NOT EXISTS (SELECT 1 FROM objects WHERE bucket = p_bucket AND key = p_key AND is_current) THEN
        UPDATE objects SET is_current = true, since = NULL, revision = nextval('object_revisions')
        WHERE bucket = p_bucket AND key = p_key AND NOT marker
          AND seq = (SELECT max(o.seq) FROM objects o WHERE o.bucket = p_bucket AND o.key = p_key);
      END IF;
    END IF;
    PERFORM offload_changed('objects');
    RETURN v_old;
  END $$;
`;
