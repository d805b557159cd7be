/**
 * The embedded storage engine: SQLite metadata plus immutable blob files.
 *
 * Every write follows one order: stream the bytes to a temp file, fsync, check (beforeCommit),
 * rename into blobs/ and fsync the directory, then one metadata transaction that makes the new
 * version visible and drops the old one's references. A crash before the commit leaves the old
 * version and an orphan file (reclaimed at start-up); after it, the new version.
 * Blobs are reference-counted because copies and completed multipart uploads share them.
 */
import { randomBytes } from 'node:crypto';
import { BlobFiles, type WrittenBlob } from './blobs.js';
import { openDatabase, type Db } from './schema.js';
import { memoryReader, openReader } from './reader.js';
import { readFile } from 'node:fs/promises';
import { BlobCache, type BlobCacheOptions } from './blob-cache.js';
import { FdCache } from './fd-cache.js';
import { listKeys } from './listing.js';
import { Multipart } from './multipart.js';
import { StoreError } from './types.js';
import { tightenDataFolder } from './permissions.js';
import { DiskGuard, storageFailureOf, type MinFreeSpace } from './disk-space.js';
import type { Readable } from 'node:stream';
import { WalSync } from './wal-sync.js';
import type { Acl, BucketConfigKind, BucketInfo, ListInput, ListResult, ObjectMeta, ObjectReader, PutObjectInput, Segment, Store } from './types.js';

export interface StoreOptions {
  /** Multipart uploads untouched for this long are aborted and their parts reclaimed (default 7 days). */
  staleUploadMs?: number;
  /** The in-memory cache of small hot objects. */
  cache?: BlobCacheOptions;
  /** Skip start-up recovery (another process of the same server already did it). */
  skipRecovery?: boolean;
  /**
   * This process is the only one that writes buckets and objects here (a one-process server
   * holding the data folder's lock): refresh() need not ask SQLite for other processes' commits.
   */
  soleWriter?: boolean;
  /** Object writes are refused below this much free space on the data folder's volume (disk-space.ts). */
  minFreeSpace?: MinFreeSpace;
}

// Object metadata kept per process for hot reads. Each entry, with the response headers built
// for it, is about a kilobyte of heap; clients that HEAD every object they upload (rclone) filled
// 100,000 entries with cold ones, about 20 MB of the server's memory in the benchmark's syncs.
const MAX_CACHED_METAS = 10_000;

export async function openStore(dataDir: string, options: StoreOptions = {}): Promise<Store> {
  // Before anything opens a file: a tree readable by others is tightened, once, by the process
  // that recovers the folder.
  if (!options.skipRecovery) tightenDataFolder(dataDir);
  const engine = new Engine(dataDir, options);
  if (!options.skipRecovery) engine.recover();
  return engine;
}

type StoredMeta = Omit<ObjectMeta, 'bucket' | 'key'>;

export class Engine implements Store {
  readonly db: Db;
  readonly files: BlobFiles;
  private readonly multipart: Multipart;
  private readonly pins = new Map<string, number>();
  private readonly unlinkWhenUnpinned = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly sql;
  readonly cache: BlobCache;
  private readonly fds = new FdCache();
  readonly disk: DiskGuard;
  private readonly walSync: WalSync;

  constructor(dataDir: string, private readonly options: StoreOptions) {
    this.files = new BlobFiles(dataDir);
    this.disk = new DiskGuard(dataDir, options.minFreeSpace);
    this.cache = new BlobCache(options.cache);
    this.db = openDatabase(dataDir);
    const db = this.db;
    this.walSync = new WalSync(`${db.name}-wal`);
    this.sql = {
      getBucket: db.prepare<[string], { name: string; owner: string; created_at: number; region: string; acl: string }>('SELECT * FROM buckets WHERE name = ?'),
      listBuckets: db.prepare<[], { name: string; owner: string; created_at: number; region: string; acl: string }>('SELECT * FROM buckets ORDER BY name'),
      insertBucket: db.prepare('INSERT INTO buckets (name, owner, created_at, region, acl) VALUES (?, ?, ?, ?, ?)'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
      deleteConfigs: db.prepare('DELETE FROM bucket_configs WHERE bucket = ?'),
      setBucketAcl: db.prepare('UPDATE buckets SET acl = ? WHERE name = ?'),
      getConfig: db.prepare<[string, string], { value: string }>('SELECT value FROM bucket_configs WHERE bucket = ? AND kind = ?'),
      putConfig: db.prepare('INSERT OR REPLACE INTO bucket_configs (bucket, kind, value) VALUES (?, ?, ?)'),
      deleteConfig: db.prepare('DELETE FROM bucket_configs WHERE bucket = ? AND kind = ?'),
      anyObject: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM objects WHERE bucket = ? LIMIT 1'),
      anyUpload: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM uploads WHERE bucket = ? LIMIT 1'),
      getObject: db.prepare<[string, string], { meta: string }>('SELECT meta FROM objects WHERE bucket = ? AND key = ?'),
      putObject: db.prepare('INSERT OR REPLACE INTO objects (bucket, key, meta) VALUES (?, ?, ?)'),
      deleteObject: db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?'),
      list: db.prepare<[string, string, string, number], { key: string; meta: string }>('SELECT key, meta FROM objects WHERE bucket = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?'),
      insertBlob: db.prepare('INSERT INTO blobs (id, size, refs) VALUES (?, ?, 1)'),
      addRef: db.prepare('UPDATE blobs SET refs = refs + ? WHERE id = ?'),
      getRefs: db.prepare<[string], { refs: number }>('SELECT refs FROM blobs WHERE id = ?'),
      deleteBlob: db.prepare('DELETE FROM blobs WHERE id = ?'),
      insertInline: db.prepare('INSERT INTO inline_blobs (id, data) VALUES (?, ?)'),
      getInline: db.prepare<[string], Buffer>('SELECT data FROM inline_blobs WHERE id = ?').pluck(),
      deleteInline: db.prepare('DELETE FROM inline_blobs WHERE id = ?'),
      deadInline: db.prepare('DELETE FROM inline_blobs WHERE id NOT IN (SELECT id FROM blobs)'),
      blobExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blobs WHERE id = ?'),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      deadBlobs: db.prepare<[], { id: string }>('SELECT id FROM blobs WHERE refs <= 0'),
      // Group commits sync the WAL themselves, off the event loop (wal-sync.ts).
      syncNormal: db.prepare('PRAGMA synchronous = NORMAL'),
      syncFull: db.prepare('PRAGMA synchronous = FULL'),
    };
    this.multipart = new Multipart(this);
    this.sweeper = setInterval(() => void this.multipart.reclaimStale(this.options.staleUploadMs ?? 7 * 24 * 3600 * 1000), 3600 * 1000);
    this.sweeper.unref();
  }

  /** Start-up: finish what a crash interrupted. */
  recover(): void {
    const dead = this.sql.deadBlobs.all().map((r) => r.id);
    // On a full volume too: the server must come up to let deletes free space.
    this.disk.withRoom(() =>
      this.db.transaction(() => {
        dead.forEach((id) => this.sql.deleteBlob.run(id));
        this.sql.deadInline.run();
      }).immediate(),
    );
    this.files.reclaimOrphans((id) => this.sql.blobExists.get(id) !== undefined);
    void this.multipart.reclaimStale(this.options.staleUploadMs ?? 7 * 24 * 3600 * 1000);
  }

  // ---- buckets

  async createBucket(input: { name: string; owner: string; region: string; acl: Acl }): Promise<BucketInfo> {
    if (this.getBucket(input.name)) throw new StoreError('BucketAlreadyExists');
    const info: BucketInfo = { ...input, createdAt: Date.now() };
    this.forgetBuckets();
    try {
      this.sql.insertBucket.run(info.name, info.owner, info.createdAt, info.region, JSON.stringify(info.acl));
    } catch (err) {
      // Another worker created it between our check and our insert.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreError('BucketAlreadyExists');
      throw err;
    }
    return info;
  }

  // Bucket rows and configurations are read on every request and change rarely: they are cached
  // per process, and the cache is dropped when this process writes them or when refresh() sees
  // another connection's commit (SQLite's data_version).
  private dataVersion = -1;
  private readonly bucketCache = new Map<string, BucketInfo | null>();
  private readonly configCache = new Map<string, string | null>();

  /**
   * Bumped whenever something cached from the database may have changed: this process's own
   * writes (per key or per bucket) and other processes' commits seen by refresh().
   */
  generation = 0;

  refresh(): void {
    if (this.options.soleWriter) return;
    const version = this.sql.dataVersion.get()!;
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      this.forgetBuckets();
    }
  }

  private forgetBuckets(): void {
    this.generation++;
    this.bucketCache.clear();
    this.configCache.clear();
    this.metaCache.clear();
  }

  getBucket(name: string): BucketInfo | undefined {
    const cached = this.bucketCache.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.sql.getBucket.get(name);
    const info = row && { name: row.name, owner: row.owner, createdAt: row.created_at, region: row.region, acl: JSON.parse(row.acl) as Acl };
    if (this.bucketCache.size > 10_000) this.bucketCache.clear();
    this.bucketCache.set(name, info ?? null);
    return info;
  }

  listBuckets(): BucketInfo[] {
    return this.sql.listBuckets.all().map((row) => ({ name: row.name, owner: row.owner, createdAt: row.created_at, region: row.region, acl: JSON.parse(row.acl) as Acl }));
  }

  async deleteBucket(name: string): Promise<void> {
    this.forgetBuckets();
    this.transaction(() => {
      if (!this.getBucket(name)) throw new StoreError('NoSuchBucket');
      if (this.sql.anyObject.get(name)) throw new StoreError('BucketNotEmpty');
      // As on S3, uploads still in progress do not keep a bucket alive: they are aborted with it.
      this.multipart.dropAll(name);
      this.sql.deleteConfigs.run(name);
      this.sql.deleteBucket.run(name);
    });
    this.forgetBuckets();
  }

  async setBucketAcl(name: string, acl: Acl): Promise<void> {
    this.forgetBuckets();
    if (this.sql.setBucketAcl.run(JSON.stringify(acl), name).changes === 0) throw new StoreError('NoSuchBucket');
  }

  getBucketConfig(name: string, kind: BucketConfigKind): string | undefined {
    const id = `${name}\0${kind}`;
    const cached = this.configCache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const value = this.sql.getConfig.get(name, kind)?.value;
    if (this.configCache.size > 10_000) this.configCache.clear();
    this.configCache.set(id, value ?? null);
    return value;
  }

  async setBucketConfig(name: string, kind: BucketConfigKind, value: string | undefined): Promise<void> {
    if (!this.getBucket(name)) throw new StoreError('NoSuchBucket');
    this.forgetBuckets();
    if (value === undefined) this.sql.deleteConfig.run(name, kind);
    else this.sql.putConfig.run(name, kind, value);
  }

  bucketHasObjects(name: string): boolean {
    return this.sql.anyObject.get(name) !== undefined;
  }

  // ---- objects

  async putObject(input: PutObjectInput): Promise<ObjectMeta> {
    if (!this.getBucket(input.bucket)) {
      input.body.resume();
      throw new StoreError('NoSuchBucket');
    }
    const blob = await this.writeBlob(input.body, { inline: true });
    return this.commitBlob(blob, input.beforeCommit, (segments) => {
      if (!this.getBucket(input.bucket)) throw new StoreError('NoSuchBucket');
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
      };
      this.replaceObject(meta, input.precondition);
      return meta;
    });
  }

  assertRoomForWrite(): void {
    this.disk.assertRoomForWrite();
  }

  /** The shared head of every byte-writing operation: refused below the free-space threshold. */
  async writeBlob(body: Readable, opts: { inline?: boolean } = {}): Promise<WrittenBlob> {
    // Refused without reading the body: a client that sent Expect: 100-continue sends none, and
    // the error response closes the connection (respond.ts) instead of draining an upload.
    this.disk.assertRoomForWrite();
    try {
      const blob = await this.files.write(body, opts);
      this.disk.noteWritten(blob.size);
      return blob;
    } catch (err) {
      if (storageFailureOf(err) === 'full') this.disk.noteFull();
      throw err;
    }
  }

  /**
   * The shared tail of every byte-writing operation: verify, place the file, then run `commit`
   * in one transaction with the blob registered. Empty bodies need no file at all.
   */
  async commitBlob<T>(blob: WrittenBlob, beforeCommit: PutObjectInput['beforeCommit'], commit: (segments: Segment[]) => T): Promise<T> {
    try {
      await beforeCommit?.({ md5: blob.md5, size: blob.size });
      if (blob.size === 0) {
        await this.files.discard(blob);
        return await this.groupCommit(() => commit([]));
      }
      await this.files.place(blob).catch((err: unknown) => {
        if (storageFailureOf(err) === 'full') this.disk.noteFull();
        throw err;
      });
      return await this.groupCommit(() => {
        this.sql.insertBlob.run(blob.id, blob.size);
        if (blob.data === undefined) return commit([{ blobId: blob.id, size: blob.size }]);
        this.sql.insertInline.run(blob.id, blob.data);
        return commit([{ blobId: blob.id, size: blob.size, inline: true }]);
      });
    } catch (err) {
      await this.files.discard(blob);
      throw err;
    }
  }

  /**
   * Runs fn in a transaction, then unlinks the blobs it left unreferenced. IMMEDIATE: the write
   * lock is taken up front, so another worker's commit makes us wait (busy_timeout) instead of
   * failing our transaction half-way with SQLITE_BUSY.
   */
  transaction<T>(fn: () => T): T {
    if (this.releasing) return fn();
    const released: string[] = [];
    this.releasing = released;
    try {
      return this.disk.withRoom(() => {
        released.length = 0;
        return this.db.transaction(fn).immediate();
      });
    } catch (err) {
      released.length = 0;
      throw err;
    } finally {
      this.releasing = undefined;
      for (const id of released) this.unlinkBlob(id);
    }
  }

  private pending: { fn: () => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void }[] = [];

  /**
   * Group commit: the metadata changes of every write that reaches this point in the same turn of
   * the event loop share one transaction, so one fsync of the WAL makes all of them durable. Each
   * runs in its own savepoint: one failing (a precondition, a vanished bucket) leaves the others.
   * Every promise settles only after the shared commit, which is what makes the write durable.
   */
  groupCommit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flushCommits());
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private flushCommits(): void {
    if (this.walSync.busy) {
      // They would wait for the next sync anyway: commit them together once this one ends.
      if (!this.flushQueued) {
        this.flushQueued = true;
        this.walSync.whenIdle(() => {
          this.flushQueued = false;
          this.flushCommits();
        });
      }
      return;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (!this.db.open) {
      for (const item of batch) item.reject(new Error('the store is closed'));
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const released: string[] = [];
    this.releasing = released;
    this.sql.syncNormal.run();
    try {
      this.disk.withRoom((lastTry) => this.runBatch(batch, outcomes, released, lastTry));
    } catch (err) {
      this.releasing = undefined;
      for (const item of batch) item.reject(err);
      return;
    } finally {
      this.sql.syncFull.run();
    }
    this.releasing = undefined;
    // Durable only once the WAL is synced: until then neither an answer nor an unlink.
    this.walSync.afterSync((err) => {
      if (err) {
        // Unknown whether it is on disk: the dropped files stay (start-up reclaims orphans).
        for (const item of batch) item.reject(err);
        return;
      }
      for (const id of released) this.unlinkBlob(id);
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.value);
      });
    });
  }

  /** One transaction for the batch, each write in its own savepoint; fills outcomes and released afresh. */
  private runBatch(batch: { fn: () => unknown }[], outcomes: { ok: boolean; value: unknown }[], released: string[], lastTry: boolean): void {
    outcomes.length = 0;
    released.length = 0;
    this.db.transaction(() => {
      for (const item of batch) {
        const mark = released.length;
        try {
          outcomes.push({ ok: true, value: this.db.transaction(item.fn)() });
        } catch (err) {
          released.length = mark;
          outcomes.push({ ok: false, value: err });
        }
      }
      // One write that found no room: roll the batch back and run it again into the reserve.
      const noRoom = outcomes.find((o) => !o.ok && storageFailureOf(o.value) === 'full');
      if (noRoom && !lastTry) throw noRoom.value;
    }).immediate();
  }

  private releasing: string[] | undefined;
  private flushQueued = false;

  /** Inside a transaction: drop one reference to each segment's blob. */
  unref(segments: Segment[]): void {
    for (const { blobId, inline } of segments) {
      this.sql.addRef.run(-1, blobId);
      if ((this.sql.getRefs.get(blobId)?.refs ?? 0) <= 0) {
        this.sql.deleteBlob.run(blobId);
        // An inline blob goes with the transaction; a file is unlinked once it has committed.
        if (inline) {
          this.sql.deleteInline.run(blobId);
          this.cache.drop(blobId);
        } else this.releasing?.push(blobId);
      }
    }
  }

  ref(segments: Segment[]): void {
    for (const { blobId } of segments) this.sql.addRef.run(1, blobId);
  }

  private unlinkBlob(id: string): void {
    this.cache.drop(id);
    this.fds.forget(id);
    if (this.pins.has(id)) this.unlinkWhenUnpinned.add(id);
    else void this.files.remove(id);
  }

  /** Inside a transaction: make meta the current version of its key, releasing the old one. */
  replaceObject(meta: ObjectMeta, precondition?: PutObjectInput['precondition']): void {
    const current = this.headObject(meta.bucket, meta.key);
    precondition?.(current);
    this.forgetObject(meta.bucket, meta.key);
    this.sql.putObject.run(meta.bucket, meta.key, encodeMeta(meta));
    if (current) this.unref(current.segments);
  }

  headObject(bucket: string, key: string): ObjectMeta | undefined {
    const id = `${bucket}\0${key}`;
    const cached = this.metaCache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.sql.getObject.get(bucket, key);
    const meta = row && decodeMeta(bucket, key, row.meta);
    // Only committed state is cached: inside a transaction this connection also sees its own
    // uncommitted rows, which a rollback could still take back.
    if (this.releasing === undefined) {
      if (this.metaCache.size >= MAX_CACHED_METAS) this.metaCache.clear();
      this.metaCache.set(id, meta ? Object.freeze(meta) : null);
    }
    return meta;
  }

  private forgetObject(bucket: string, key: string): void {
    this.generation++;
    this.metaCache.delete(`${bucket}\0${key}`);
  }

  /**
   * Object metadata as last read, per process: dropped per key on this process's writes and
   * wholesale when refresh() sees another connection's commit. Frozen, since callers share them.
   */
  private readonly metaCache = new Map<string, ObjectMeta | null>();

  async openObject(bucket: string, key: string): Promise<ObjectReader | undefined> {
    try {
      return await this.tryOpen(bucket, key);
    } catch (err) {
      // Another server process may have replaced the object and unlinked its blob between our
      // metadata read and the open: read the metadata again, which names the new blob.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.refresh();
      return this.tryOpen(bucket, key);
    }
  }

  private async tryOpen(bucket: string, key: string): Promise<ObjectReader | undefined> {
    const meta = this.headObject(bucket, key);
    if (!meta) return undefined;
    if (meta.segments.length === 0) return memoryReader(meta, Buffer.alloc(0));
    if (meta.segments[0]!.inline) return memoryReader(meta, this.inlineBytes(meta.segments[0]!.blobId, meta.size));
    const small = meta.segments.length === 1 && this.cache.fits(meta.size);
    if (small) {
      const hit = this.cache.get(meta.segments[0]!.blobId);
      if (hit) return memoryReader(meta, hit);
    }
    // Pinned until the descriptors are open: a concurrent delete must not unlink in between.
    const ids = meta.segments.map((s) => s.blobId);
    for (const id of ids) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    try {
      if (small) {
        const blobId = meta.segments[0]!.blobId;
        const bytes = await readFile(this.files.pathOf(blobId));
        this.cache.set(blobId, bytes);
        return memoryReader(meta, bytes);
      }
      return await openReader(meta, (id) => this.files.pathOf(id), this.fds);
    } finally {
      for (const id of ids) {
        const n = (this.pins.get(id) ?? 1) - 1;
        if (n > 0) this.pins.set(id, n);
        else {
          this.pins.delete(id);
          if (this.unlinkWhenUnpinned.delete(id)) void this.files.remove(id);
        }
      }
    }
  }

  private inlineBytes(blobId: string, size: number): Buffer {
    const fits = this.cache.fits(size);
    const hit = fits ? this.cache.get(blobId) : undefined;
    if (hit) return hit;
    const bytes = this.sql.getInline.get(blobId);
    if (bytes === undefined) {
      // Replaced by another process since our metadata read: openObject reads the metadata again.
      throw Object.assign(new Error(`inline blob ${blobId} is gone`), { code: 'ENOENT' });
    }
    if (fits) this.cache.set(blobId, bytes);
    return bytes;
  }

  async deleteObject(bucket: string, key: string): Promise<ObjectMeta | undefined> {
    return this.groupCommit(() => {
      if (!this.getBucket(bucket)) throw new StoreError('NoSuchBucket');
      const current = this.headObject(bucket, key);
      if (!current) return undefined;
      this.forgetObject(bucket, key);
      this.sql.deleteObject.run(bucket, key);
      this.unref(current.segments);
      return current;
    });
  }

  async updateObjectMeta(bucket: string, key: string, change: (current: ObjectMeta) => Partial<ObjectMeta>): Promise<ObjectMeta> {
    return this.groupCommit(() => {
      const current = this.headObject(bucket, key);
      if (!current) throw new StoreError(this.getBucket(bucket) ? 'NoSuchKey' : 'NoSuchBucket');
      const next: ObjectMeta = { ...current, ...change(current), bucket, key, segments: current.segments };
      this.forgetObject(bucket, key);
      this.sql.putObject.run(bucket, key, encodeMeta(next));
      return next;
    });
  }

  async copyObject(input: Parameters<Store['copyObject']>[0]): Promise<ObjectMeta> {
    return this.groupCommit(() => {
      if (!this.getBucket(input.bucket)) throw new StoreError('NoSuchBucket');
      const source = this.headObject(input.source.bucket, input.source.key);
      if (!source || source.etag !== input.source.etag || !sameSegments(source.segments, input.source.segments)) throw new StoreError('NoSuchKey');
      this.ref(source.segments);
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
      };
      this.replaceObject(meta, input.precondition);
      return meta;
    });
  }

  listObjects(input: ListInput): ListResult {
    if (!this.getBucket(input.bucket)) throw new StoreError('NoSuchBucket');
    return listKeys(this.sql.list, decodeMeta.bind(null, input.bucket), input);
  }

  // ---- multipart (multipart.ts)

  createMultipartUpload: Store['createMultipartUpload'] = (input) => this.multipart.create(input);
  getMultipartUpload: Store['getMultipartUpload'] = (bucket, uploadId) => this.multipart.get(bucket, uploadId);
  putPart: Store['putPart'] = (input) => this.multipart.putPart(input);
  listParts: Store['listParts'] = (uploadId, input) => this.multipart.listParts(uploadId, input);
  listMultipartUploads: Store['listMultipartUploads'] = (bucket, input) => this.multipart.listUploads(bucket, input);
  completeMultipartUpload: Store['completeMultipartUpload'] = (input) => this.multipart.complete(input);
  abortMultipartUpload: Store['abortMultipartUpload'] = (uploadId) => this.multipart.abort(uploadId);

  async close(): Promise<void> {
    this.flushCommits();
    await this.walSync.close();
    clearInterval(this.sweeper);
    this.fds.closeAll();
    if (this.db.open) this.db.close();
  }
}

export function newUploadId(): string {
  return randomBytes(24).toString('base64url');
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
