/**
 * Objects: the current version of each key, its metadata one JSON row. Writes go through the
 * group commit (commit.ts); reads of metadata through the per-process cache (meta-cache.ts).
 */
import type { Statement } from 'better-sqlite3';
import type { Buckets } from './buckets.js';
import type { Commits } from './commit.js';
import { listKeys } from './listing.js';
import type { MetaCache } from './meta-cache.js';
import type { Db } from './schema.js';
import { StoreError, type ListInput, type ListResult, type ObjectMeta, type PutObjectInput, type Segment, type Store } from './types.js';

type StoredMeta = Omit<ObjectMeta, 'bucket' | 'key'>;

export class Objects {
  private readonly sql: {
    get: Statement<[string, string], { meta: string }>;
    put: Statement;
    remove: Statement;
    list: Statement<[string, string, string, number], { key: string; meta: string }>;
  };

  constructor(db: Db, private readonly commits: Commits, private readonly cache: MetaCache, private readonly buckets: Buckets) {
    this.sql = {
      get: db.prepare('SELECT meta FROM objects WHERE bucket = ? AND key = ?'),
      put: db.prepare('INSERT OR REPLACE INTO objects (bucket, key, meta) VALUES (?, ?, ?)'),
      remove: db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?'),
      list: db.prepare('SELECT key, meta FROM objects WHERE bucket = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?'),
    };
  }

  async put(input: PutObjectInput): Promise<ObjectMeta> {
    if (!this.buckets.get(input.bucket)) {
      input.body.resume();
      throw new StoreError('NoSuchBucket');
    }
    const blob = await this.commits.writeBlob(input.body, { inline: true, encryption: input.encryption });
    return this.commits.commitBlob(blob, input.beforeCommit, (segments) => {
      if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
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
      this.replace(meta, input.precondition);
      return meta;
    });
  }

  /** Inside a transaction: make meta the current version of its key, releasing the old one. */
  replace(meta: ObjectMeta, precondition?: PutObjectInput['precondition']): void {
    const current = this.head(meta.bucket, meta.key);
    precondition?.(current);
    this.cache.forgetObject(meta.bucket, meta.key);
    this.sql.put.run(meta.bucket, meta.key, encodeMeta(meta));
    if (current) this.commits.unref(current.segments);
  }

  head(bucket: string, key: string): ObjectMeta | undefined {
    const cached = this.cache.object(bucket, key);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.sql.get.get(bucket, key);
    const meta = row && decodeMeta(bucket, key, row.meta);
    // Only committed state is cached: inside a transaction this connection also sees its own
    // uncommitted rows, which a rollback could still take back.
    if (!this.commits.inTransaction) this.cache.setObject(bucket, key, meta);
    return meta;
  }

  async delete(bucket: string, key: string): Promise<ObjectMeta | undefined> {
    return this.commits.groupCommit(() => {
      if (!this.buckets.get(bucket)) throw new StoreError('NoSuchBucket');
      const current = this.head(bucket, key);
      if (!current) return undefined;
      this.cache.forgetObject(bucket, key);
      this.sql.remove.run(bucket, key);
      this.commits.unref(current.segments);
      return current;
    });
  }

  async updateMeta(bucket: string, key: string, change: (current: ObjectMeta) => Partial<ObjectMeta>): Promise<ObjectMeta> {
    return this.commits.groupCommit(() => {
      const current = this.head(bucket, key);
      if (!current) throw new StoreError(this.buckets.get(bucket) ? 'NoSuchKey' : 'NoSuchBucket');
      const next: ObjectMeta = { ...current, ...change(current), bucket, key, segments: current.segments };
      this.cache.forgetObject(bucket, key);
      this.sql.put.run(bucket, key, encodeMeta(next));
      return next;
    });
  }

  async copy(input: Parameters<Store['copyObject']>[0]): Promise<ObjectMeta> {
    return this.commits.groupCommit(() => {
      if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
      const source = this.head(input.source.bucket, input.source.key);
      if (!source || source.etag !== input.source.etag || !sameSegments(source.segments, input.source.segments)) throw new StoreError('NoSuchKey');
      this.commits.ref(source.segments);
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
        ...(source.sse && { sse: source.sse }),
      };
      this.replace(meta, input.precondition);
      return meta;
    });
  }

  list(input: ListInput): ListResult {
    if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
    return listKeys(this.sql.list, decodeMeta.bind(null, input.bucket), input);
  }
}

function headersOf(input: PutObjectInput): Omit<ObjectMeta, 'bucket' | 'key' | 'size' | 'etag' | 'lastModified' | 'owner' | 'acl' | 'tags' | 'segments'> {
  return {
    contentType: input.contentType,
    contentEncoding: input.contentEncoding,
    contentDisposition: input.contentDisposition,
    contentLanguage: input.contentLanguage,
    cacheControl: input.cacheControl,
    expires: input.expires,
    websiteRedirectLocation: input.websiteRedirectLocation,
    userMeta: input.userMeta,
  };
}

function sameSegments(a: Segment[], b: Segment[]): boolean {
  return a.length === b.length && a.every((s, i) => s.blobId === b[i]!.blobId);
}

function encodeMeta(meta: ObjectMeta): string {
  const { bucket: _bucket, key: _key, ...stored } = meta;
  return JSON.stringify(stored);
}

function decodeMeta(bucket: string, key: string, json: string): ObjectMeta {
  const stored = JSON.parse(json) as StoredMeta;
  return { ...stored, bucket, key };
}
