/**
 * Objects: the current version of each key in `objects`, its metadata one JSON row; older
 * versions and delete markers in `versions` (versions.ts). Every write follows the bucket's
 * versioning state, read inside its commit. Writes go through the group commit (commit.ts);
 * reads of current metadata through the per-process cache (meta-cache.ts), which every version
 * write invalidates (bumping the generation the response caches are keyed by).
 */
import type { Statement } from 'better-sqlite3';
import type { Buckets } from './buckets.js';
import type { Commits } from './commit.js';
import { listKeys } from './listing.js';
import type { MetaCache } from './meta-cache.js';
import type { Db } from './schema.js';
import { StoreError, type ListInput, type ListResult, type ObjectMeta, type PutObjectInput, type Segment, type Store, type VersionSelector, type VersioningState, type ListVersionsInput, type ListVersionsResult, type VersionUsage } from './types.js';
import { listVersions, sqliteVersions } from './version-listing.js';
import { decodeVersion, encodeVersion, newVersionId, seqAfter, seqOf, VersionRows } from './versions.js';

export class Objects {
  readonly versions: VersionRows;
  private readonly sql: {
    get: Statement<[string, string], { meta: string }>;
    put: Statement;
    remove: Statement;
    list: Statement<[string, string, string, number], { key: string; meta: string }>;
    usage: Statement<[string], { objects: number; bytes: number }>;
  };

  constructor(db: Db, private readonly commits: Commits, private readonly cache: MetaCache, private readonly buckets: Buckets) {
    this.versions = new VersionRows(db);
    this.sql = {
      get: db.prepare('SELECT meta FROM objects WHERE bucket = ? AND key = ?'),
      put: db.prepare('INSERT OR REPLACE INTO objects (bucket, key, meta, modified) VALUES (?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?'),
      list: db.prepare('SELECT key, meta FROM objects WHERE bucket = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?'),
      usage: db.prepare("SELECT COUNT(*) AS objects, COALESCE(SUM(json_extract(meta, '$.size')), 0) AS bytes FROM objects WHERE bucket = ?"),
    };
  }

  versioning(bucket: string): VersioningState | undefined {
    const state = this.buckets.getConfig(bucket, 'versioning');
    return state === 'Enabled' || state === 'Suspended' ? state : undefined;
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

  /**
   * Inside a transaction: make meta (an object or a delete marker) the latest version of its
   * key. Never versioned: the old object goes. Enabled: it becomes noncurrent. Suspended: meta
   * is the null version, and the old null version goes wherever it was. Sets meta's versionId.
   */
  replace(meta: ObjectMeta, precondition?: PutObjectInput['precondition']): void {
    const { bucket, key } = meta;
    const current = this.head(bucket, key);
    precondition?.(current);
    const state = this.versioning(bucket);
    this.cache.forgetObject(bucket, key);
    // A never-versioned bucket has no older versions to order against: one lookup fewer per PUT.
    const newest = state === undefined ? undefined : this.versions.newest(bucket, key);
    meta.seq = seqAfter(Math.max(current ? seqOf(current) : 0, newest ? -newest.neg_seq : 0));
    if (state === 'Enabled') meta.versionId = newVersionId(meta.seq);
    else delete meta.versionId;
    if (current) {
      if (state === undefined || (state === 'Suspended' && current.versionId === undefined)) this.commits.unref(current.segments);
      else this.versions.insert(current, meta.lastModified);
      this.sql.remove.run(bucket, key);
    }
    if (state === 'Suspended') this.dropVersionRow(bucket, key, 'null');
    if (meta.deleteMarker) this.versions.insert(meta, meta.lastModified);
    else this.sql.put.run(bucket, key, encodeVersion(meta), meta.lastModified);
  }

  /** The current version (an object, never a marker), from the cache when it is there. */
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

  /** The version a selector names: the current object, the latest version even if a marker, or one by id. */
  headVersion(bucket: string, key: string, version: VersionSelector = {}): ObjectMeta | undefined {
    const current = this.head(bucket, key);
    if (version.versionId === undefined) {
      if (current || !version.latestEvenIfMarker) return current;
      const newest = this.versions.newest(bucket, key);
      return newest && decodeVersion(bucket, newest);
    }
    if (current && (current.versionId ?? 'null') === version.versionId) return current;
    const row = this.versions.byId(bucket, key, version.versionId);
    return row && decodeVersion(bucket, row);
  }

  async delete(bucket: string, key: string, versionId?: string): Promise<ObjectMeta | undefined> {
    return this.commits.groupCommit(() => {
      if (!this.buckets.get(bucket)) throw new StoreError('NoSuchBucket');
      if (versionId !== undefined) return this.removeVersion(bucket, key, versionId);
      if (this.versioning(bucket) === undefined) {
        const current = this.head(bucket, key);
        if (!current) return undefined;
        this.cache.forgetObject(bucket, key);
        this.sql.remove.run(bucket, key);
        this.commits.unref(current.segments);
        return current;
      }
      const marker: ObjectMeta = { bucket, key, size: 0, etag: '', lastModified: Date.now(), owner: '', acl: { canned: 'private' }, tags: {}, userMeta: {}, segments: [], deleteMarker: true };
      const latest = this.headVersion(bucket, key, { latestEvenIfMarker: true });
      marker.owner = latest?.owner ?? '';
      this.replace(marker);
      return marker;
    });
  }

  /** Inside a transaction: removes exactly one version; the next newest becomes current when it is an object. */
  removeVersion(bucket: string, key: string, versionId: string): ObjectMeta | undefined {
    const current = this.head(bucket, key);
    this.cache.forgetObject(bucket, key);
    if (current && (current.versionId ?? 'null') === versionId) {
      this.sql.remove.run(bucket, key);
      this.commits.unref(current.segments);
      this.promoteNewest(bucket, key);
      return current;
    }
    const removed = this.dropVersionRow(bucket, key, versionId);
    if (removed && !current) this.promoteNewest(bucket, key);
    return removed;
  }

  private dropVersionRow(bucket: string, key: string, versionId: string): ObjectMeta | undefined {
    const row = this.versions.byId(bucket, key, versionId);
    if (!row) return undefined;
    const meta = decodeVersion(bucket, row);
    this.versions.remove(bucket, row);
    this.commits.unref(meta.segments);
    return meta;
  }

  /** A key without a current object: its newest version, when it is an object (not a marker), becomes current. */
  private promoteNewest(bucket: string, key: string): void {
    const newest = this.versions.newest(bucket, key);
    if (!newest || newest.marker) return;
    const meta = decodeVersion(bucket, newest);
    // Inserted before its versions row goes: the quota trigger sees a move, never refused (quota-sql.ts).
    this.sql.put.run(bucket, key, encodeVersion(meta), meta.lastModified);
    this.versions.remove(bucket, newest);
  }

  async updateMeta(bucket: string, key: string, change: (current: ObjectMeta) => Partial<ObjectMeta>, versionId?: string): Promise<ObjectMeta> {
    return this.commits.groupCommit(() => {
      const target = this.headVersion(bucket, key, { versionId });
      if (!target || target.deleteMarker) throw new StoreError(!this.buckets.get(bucket) ? 'NoSuchBucket' : versionId === undefined ? 'NoSuchKey' : 'NoSuchVersion');
      const next: ObjectMeta = { ...target, ...change(target), bucket, key, segments: target.segments, versionId: target.versionId, seq: target.seq };
      this.cache.forgetObject(bucket, key);
      const current = this.head(bucket, key);
      if (current && current.versionId === target.versionId) this.sql.put.run(bucket, key, encodeVersion(next), next.lastModified);
      else this.versions.sql.updateMeta.run(encodeVersion(next), bucket, key, -seqOf(target));
      return next;
    });
  }

  async copy(input: Parameters<Store['copyObject']>[0]): Promise<ObjectMeta> {
    return this.commits.groupCommit(() => {
      if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
      const source = this.headVersion(input.source.bucket, input.source.key, { versionId: input.source.versionId ?? 'null' });
      if (!source || source.deleteMarker || source.etag !== input.source.etag || !sameSegments(source.segments, input.source.segments)) throw new StoreError('NoSuchKey');
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

  list(input: ListInput): Promise<ListResult> {
    if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
    return listKeys((after, from, limit) => this.sql.list.all(input.bucket, after, from, limit), decodeMeta.bind(null, input.bucket), input);
  }

  listVersions(input: ListVersionsInput): Promise<ListVersionsResult> {
    if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
    return listVersions(sqliteVersions(input.bucket, this.sql.list, this.versions, decodeMeta.bind(null, input.bucket), (key) => this.head(input.bucket, key)), input);
  }

  usage(bucket: string): VersionUsage {
    const current = this.sql.usage.get(bucket)!;
    const old = this.versions.sql.usage.get(bucket)!;
    return { currentBytes: current.bytes, currentObjects: current.objects, noncurrentBytes: old.bytes, noncurrentVersions: old.versions, deleteMarkers: old.markers };
  }
}

/** The stored headers of a write (shared with the PostgreSQL store). */
export function headersOf(input: PutObjectInput): Omit<ObjectMeta, 'bucket' | 'key' | 'size' | 'etag' | 'lastModified' | 'owner' | 'acl' | 'tags' | 'segments'> {
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

/** Whether two versions share their bytes (the same blobs in order). */
export function sameSegments(a: Segment[], b: Segment[]): boolean {
  return a.length === b.length && a.every((s, i) => s.blobId === b[i]!.blobId);
}

export function decodeMeta(bucket: string, key: string, json: string): ObjectMeta {
  const stored = JSON.parse(json) as Omit<ObjectMeta, 'bucket' | 'key'>;
  return { ...stored, bucket, key };
}
