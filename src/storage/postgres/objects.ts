/**
 * Objects in PostgreSQL: every version of a key one row, its metadata jsonb (the current object
 * flagged is_current; noncurrent versions and delete markers beside it: versions.ts). Every write
 * follows the bucket's versioning state, read inside its statement (offload_replace). PutObject
 * and DeleteObject are one round trip each (offload_put / offload_delete_version of
 * migrations.ts; concurrent puts share one, put-batch.ts); the rarer writes are short
 * transactions with the key's row locked (offload_lock_version), which is what makes a
 * precondition and the write atomic across nodes.
 */
import { StoreError, type ListInput, type ListResult, type ObjectMeta, type PutObjectInput, type Segment, type Store } from '../types.js';
import { S3Error } from '../../errors/s3-error.js';
import type { PgBlobs } from './blob-gc.js';
import type { PgDb, Sql } from './db.js';
import { listKeys } from '../listing.js';
import { headersOf, sameSegments } from '../objects.js';
import { PutBatcher, type PutArgs } from './put-batch.js';
import { setsQuota } from '../quota.js';
import type { PgState } from './state.js';

type StoredMeta = Omit<ObjectMeta, 'bucket' | 'key'>;
type Precondition = PutObjectInput['precondition'];

export class PgObjects {
  private readonly batch: PutBatcher;

  constructor(private readonly db: PgDb, private readonly state: PgState, private readonly blobs: PgBlobs) {
    this.batch = new PutBatcher(db);
  }

  async head(bucket: string, key: string): Promise<ObjectMeta | undefined> {
    return (await this.current(bucket, key)).meta;
  }

  /** The current version and its revision (0: absent), from this request's cache or the database. */
  async current(bucket: string, key: string): Promise<{ meta: ObjectMeta | undefined; revision: number }> {
    const cached = this.state.cachedObject(bucket, key);
    if (cached) return { meta: cached.meta ?? undefined, revision: cached.revision };
    const generation = this.state.generation;
    const { rows } = await this.db.read<{ meta: StoredMeta; revision: string }>('SELECT meta, revision FROM objects WHERE bucket = $1 AND key = $2 AND is_current', [bucket, key]);
    const row = rows[0];
    const meta = row && decodeMeta(bucket, key, row.meta);
    const revision = row ? Number(row.revision) : 0;
    this.state.cacheObject(bucket, key, meta, revision, generation);
    return { meta, revision };
  }

  async put(input: PutObjectInput): Promise<ObjectMeta> {
    if (!this.state.bucket(input.bucket)) {
      input.body.resume();
      throw new StoreError('NoSuchBucket');
    }
    const blob = await this.blobs.write(input.body, true, input.encryption);
    try {
      await input.beforeCommit?.({ md5: blob.md5, size: blob.size });
      await this.blobs.place(blob);
      const enc = blob.enc && { enc: blob.enc };
      const segments: Segment[] = blob.size === 0 ? [] : blob.data !== undefined ? [{ blobId: blob.id, size: blob.size, inline: true, ...enc }] : [{ blobId: blob.id, size: blob.size, ...enc }];
      const meta: ObjectMeta = {
        bucket: input.bucket,
        key: input.key,
        size: blob.size,
        etag: `"${blob.md5.toString('hex')}"`,
        lastModified: Date.now(),
        owner: input.owner,
        acl: input.acl,
        checksum: input.checksum,
        tags: input.tags ?? {},
        segments,
        ...headersOf(input),
        ...(input.encryption && { sse: input.encryption.sse }),
      };
      // Without a precondition any current version is replaced (-1); with one, only the version
      // it was evaluated on: if another writer got in first, evaluate it again on theirs.
      let expect = -1;
      if (input.precondition) {
        const current = await this.current(input.bucket, input.key);
        input.precondition(current.meta);
        expect = current.revision;
      }
      const args: PutArgs = { bucket: input.bucket, key: input.key, expect, meta: encodeMeta(meta), blob: segments.length ? blob.id : null, size: blob.size, data: segments.length && blob.data !== undefined ? blob.data : null, alone: setsQuota(this.state.config(input.bucket, 'limits')) };
      for (;;) {
        const row = await this.batch.submit(args).catch(reclaimedAsUnavailable);
        if (row.out_status === 'ok') {
          adoptStored(meta, row.out_meta);
          break;
        }
        input.precondition?.(row.out_meta ? decodeMeta(input.bucket, input.key, row.out_meta as StoredMeta) : undefined);
        args.expect = Number(row.out_revision);
      }
      this.state.objectChanged(input.bucket, input.key);
      this.blobs.released();
      return meta;
    } catch (err) {
      await this.blobs.abandon(blob, err);
      throw err;
    }
  }

  /** Without versionId as the bucket's versioning state says (removal or a delete marker); with it, exactly that version. */
  async delete(bucket: string, key: string, versionId?: string): Promise<ObjectMeta | undefined> {
    if (!this.state.bucket(bucket)) throw new StoreError('NoSuchBucket');
    const { rows } = await this.db.query<{ meta: StoredMeta | null }>('SELECT offload_delete_version($1, $2, $3, $4) AS meta', [bucket, key, versionId ?? null, Date.now()]).catch(noBucketOnForeignKey);
    const stored = rows[0]?.meta;
    if (!stored) return undefined;
    this.state.objectChanged(bucket, key);
    this.blobs.released();
    return decodeMeta(bucket, key, stored);
  }

  /**
   * For the lifecycle sweep: deletes as delete() does (`which` undefined: the current object, as a
   * DELETE without a version id; else exactly that version), but only if the version's row,
   * locked with the key, still passes `still`: a write another node made since the sweep read
   * the row is never undone.
   */
  async deleteIfStill(bucket: string, key: string, which: string | undefined, still: (row: LockedRow, sql: Sql) => boolean | Promise<boolean>): Promise<boolean> {
    const done = await this.db.tx(async (sql) => {
      const { rows } = await sql.query<LockedRow>('SELECT * FROM offload_lock_version($1, $2, $3)', [bucket, key, which ?? null]);
      if (!rows[0] || !(await still(rows[0], sql))) return false;
      await sql.query('SELECT offload_delete_version($1, $2, $3, $4)', [bucket, key, which ?? null, Date.now()]);
      return true;
    });
    if (done) {
      this.state.objectChanged(bucket, key);
      this.blobs.released();
    }
    return done;
  }

  async updateMeta(bucket: string, key: string, change: (current: ObjectMeta) => Partial<ObjectMeta>, versionId?: string): Promise<ObjectMeta> {
    const next = await this.db.tx(async (sql) => {
      const { rows } = await sql.query<LockedRow>('SELECT * FROM offload_lock_version($1, $2, $3)', [bucket, key, versionId ?? null]);
      const target = rows[0] && !rows[0].out_marker ? decodeMeta(bucket, key, rows[0].out_meta) : undefined;
      if (!target) throw new StoreError(!this.state.bucket(bucket) ? 'NoSuchBucket' : versionId === undefined ? 'NoSuchKey' : 'NoSuchVersion');
      const next: ObjectMeta = { ...target, ...change(target), bucket, key, segments: target.segments, versionId: target.versionId, seq: target.seq };
      await sql.query("UPDATE objects SET meta = $4::jsonb, revision = nextval('object_revisions') WHERE bucket = $1 AND key = $2 AND version_id = $3", [bucket, key, rows[0]!.out_version, encodeMeta(next)]);
      await sql.query("SELECT offload_changed('objects')");
      return next;
    });
    this.state.objectChanged(bucket, key);
    return next;
  }

  async copy(input: Parameters<Store['copyObject']>[0]): Promise<ObjectMeta> {
    if (!this.state.bucket(input.bucket)) throw new StoreError('NoSuchBucket');
    const meta = await this.db.tx(async (sql) => {
      // Shared lock on the source version: it cannot be removed (its blobs released) before we commit.
      const { rows } = await sql.query<{ meta: StoredMeta }>('SELECT meta FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3 AND NOT marker FOR SHARE', [input.source.bucket, input.source.key, input.source.versionId ?? 'null']);
      const source = rows[0] && decodeMeta(input.source.bucket, input.source.key, rows[0].meta);
      if (!source || source.etag !== input.source.etag || !sameSegments(source.segments, input.source.segments)) throw new StoreError('NoSuchKey');
      if (source.segments.length) await sql.query('UPDATE blobs SET refs = refs + 1 WHERE id = ANY($1)', [source.segments.map((s) => s.blobId)]);
      const meta: ObjectMeta = {
        ...input.headers,
        bucket: input.bucket,
        key: input.key,
        size: source.size,
        etag: source.etag,
        lastModified: Date.now(),
        owner: input.owner,
        acl: input.acl,
        tags: input.tags,
        checksum: source.checksum,
        partSizes: source.partSizes,
        segments: source.segments,
        // Called only when the copy keeps the source's encryption (s3/sse/copy.ts): the blobs are shared as they are.
        ...(source.sse && { sse: source.sse }),
      };
      await replaceInTx(sql, meta, input.precondition);
      return meta;
    });
    this.state.objectChanged(input.bucket, input.key);
    this.blobs.released();
    return meta;
  }

  async list(input: ListInput): Promise<ListResult> {
    if (!this.state.bucket(input.bucket)) throw new StoreError('NoSuchBucket');
    const select = async (after: string, from: string, limit: number) =>
      (await this.db.read<{ key: string; meta: StoredMeta }>('SELECT key, meta FROM objects WHERE bucket = $1 AND is_current AND key > $2 AND key >= $3 ORDER BY key LIMIT $4', [input.bucket, after, from, limit])).rows;
    return listKeys(select, (key, meta) => decodeMeta(input.bucket, key, meta), input);
  }
}

/** A version's row as offload_lock_version returns it, locked until the commit. */
export type LockedRow = { out_meta: StoredMeta; out_revision: string; out_version: string; out_current: boolean; out_marker: boolean };

/** Inside a transaction: the key's current object, its row (and the key's write lock) held until the commit. */
export async function lockCurrent(sql: Sql, bucket: string, key: string): Promise<{ meta: ObjectMeta; revision: number } | undefined> {
  const { rows } = await sql.query<LockedRow>('SELECT * FROM offload_lock_version($1, $2, NULL)', [bucket, key]);
  return rows[0] && { meta: decodeMeta(bucket, key, rows[0].out_meta), revision: Number(rows[0].out_revision) };
}

/**
 * Inside a transaction: makes meta the latest version of its key as the bucket's versioning
 * state says (its blobs already counted; what it replaces releases its own), setting meta's
 * versionId. The precondition sees the current object with the key locked; should another
 * writer have got in between (a key created meanwhile), it is looked at again.
 */
export async function replaceInTx(sql: Sql, meta: ObjectMeta, precondition?: Precondition): Promise<void> {
  for (;;) {
    const current = await lockCurrent(sql, meta.bucket, meta.key);
    precondition?.(current?.meta);
    const { rows } = await sql
      .query<{ out_status: string; out_meta: Record<string, unknown> | null }>('SELECT * FROM offload_replace($1, $2, $3, $4::jsonb, false)', [meta.bucket, meta.key, current?.revision ?? 0, encodeMeta(meta)])
      .catch(noBucketOnForeignKey);
    if (rows[0]!.out_status === 'ok') {
      adoptStored(meta, rows[0]!.out_meta);
      break;
    }
  }
  await sql.query("SELECT offload_changed('objects')");
}

/** What the database decided for a written version: its id (absent: the null version) and place in its key's history. */
function adoptStored(meta: ObjectMeta, stored: Record<string, unknown> | null): void {
  if (typeof stored?.seq === 'number') meta.seq = stored.seq;
  if (typeof stored?.versionId === 'string') meta.versionId = stored.versionId;
  else delete meta.versionId;
}

/** A row naming a bucket that another node deleted meanwhile. */
export function noBucketOnForeignKey(err: unknown): never {
  if ((err as { code?: string }).code === '23503') throw new StoreError('NoSuchBucket');
  throw err;
}

/** A pending blob reclaimed before its commit (a node stalled past the grace period): retry the request. */
function reclaimedAsUnavailable(err: unknown): never {
  if ((err as { code?: string }).code === '23503') throw new StoreError('NoSuchBucket');
  if ((err as { code?: string }).code === 'OF001') throw new S3Error('ServiceUnavailable', 'The upload took longer than the blob grace period between its bytes and its commit; retry it.');
  throw err;
}

export function encodeMeta(meta: ObjectMeta): string {
  const { bucket: _bucket, key: _key, ...stored } = meta;
  return JSON.stringify(stored);
}

export function decodeMeta(bucket: string, key: string, stored: StoredMeta): ObjectMeta {
  return { ...stored, bucket, key };
}
