/**
 * The embedded storage engine: SQLite metadata plus immutable blob files, behind the Store
 * interface. Each concern has its module; this one wires them together:
 *   commit.ts      group commit, transactions, WAL sync, the disk guard's room, blob writes
 *   blob-refs.ts   reference counts of shared blobs, unlink after commit, pins of open readers
 *   buckets.ts     buckets and their configuration documents
 *   objects.ts     object versions (put, copy, delete, metadata updates, listing)
 *   versions.ts    noncurrent versions and delete markers; version-listing.ts lists them
 *   lifecycle.ts   the bucket lifecycle rules' sweep
 *   object-reads.ts opening a pinned version for reading
 *   multipart.ts   multipart uploads
 *   meta-cache.ts  the per-process metadata cache
 *   sweeper.ts     start-up recovery and the hourly sweep of stale uploads
 * Blobs are reference-counted because copies and completed multipart uploads share them.
 */
import { BlobCache, type BlobCacheOptions } from './blob-cache.js';
import { BlobRefs } from './blob-refs.js';
import { BlobFiles, type BlobStorage } from './blobs.js';
import { Buckets } from './buckets.js';
import { Commits } from './commit.js';
import { DiskGuard, type MinFreeSpace } from './disk-space.js';
import { FdCache } from './fd-cache.js';
import { MetaCache } from './meta-cache.js';
import { Multipart } from './multipart.js';
import { ObjectReads } from './object-reads.js';
import { Objects } from './objects.js';
import { PRIVATE_DIR_MODE, tightenDataFolder } from './permissions.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from './schema.js';
import { recover, startSweeper } from './sweeper.js';
import { clockFromEnv, LifecycleSweep, startLifecycle } from './lifecycle.js';
import type { HotBlobCache, Segment, Store } from './types.js';
import type { Readable } from 'node:stream';
import { storedBytes } from './encryption/sealed-transfer.js';
import { Sealer } from './encryption/sealer.js';
import { SqliteQuotas } from './quota-sql.js';
import type { MasterKey } from './encryption/keys.js';

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
  /** The lifecycle sweep's clock and period (default: the real time, hourly; tests: lifecycle.ts clockFromEnv). */
  lifecycleClock?: { now: () => number; everyMs: number };
  /** Where blob bytes go (`--blobs`: an S3 bucket or a shared folder); default: the data folder's blobs/. */
  blobs?: BlobStorage;
  /** Wraps the data keys of SSE-S3 objects (encryption/keys.ts); without it SSE-S3 writes are refused. */
  masterKey?: MasterKey;
}

const DEFAULT_STALE_UPLOAD_MS = 7 * 24 * 3600 * 1000;

export async function openStore(dataDir: string, options: StoreOptions = {}): Promise<Store> {
  // Before anything opens a file: a tree readable by others is tightened, once, by the process
  // that recovers the folder.
  if (!options.skipRecovery) tightenDataFolder(dataDir);
  const engine = new Engine(dataDir, options);
  if (!options.skipRecovery) await engine.recover();
  return engine;
}

export class Engine implements Store {
  private readonly db: Db;
  private readonly files: BlobStorage;
  private readonly disk: DiskGuard;
  private readonly cache: BlobCache;
  private readonly fds = new FdCache();
  private readonly blobs: BlobRefs;
  private readonly commits: Commits;
  private readonly metaCache: MetaCache;
  private readonly buckets: Buckets;
  private readonly objects: Objects;
  private readonly reads: ObjectReads;
  private readonly multipart: Multipart;
  private readonly quotas: SqliteQuotas;
  private readonly stopSweeper: () => void;
  private readonly stopLifecycle: () => void;
  private readonly staleUploadMs: number;
  /** Applies the buckets' lifecycle rules (lifecycle.ts); exposed for tests that drive the clock. */
  readonly lifecycle: LifecycleSweep;

  constructor(dataDir: string, options: StoreOptions) {
    this.files = options.blobs ?? new BlobFiles(dataDir);
    // The disk guard builds its space reserve under tmp/, which BlobFiles makes only for the data folder's own blobs.
    mkdirSync(join(dataDir, 'tmp'), { recursive: true, mode: PRIVATE_DIR_MODE });
    this.disk = new DiskGuard(dataDir, options.minFreeSpace);
    this.cache = new BlobCache(options.cache);
    this.db = openDatabase(dataDir);
    this.blobs = new BlobRefs(this.db, this.files, this.cache, this.fds);
    this.commits = new Commits(this.db, this.blobs, this.files, this.disk, new Sealer(options.masterKey));
    this.metaCache = new MetaCache(this.db, options.soleWriter);
    this.buckets = new Buckets(this.db, this.commits, this.metaCache, (bucket) => this.multipart.dropAll(bucket));
    this.objects = new Objects(this.db, this.commits, this.metaCache, this.buckets);
    this.reads = new ObjectReads(this.objects, this.blobs, this.cache, this.metaCache, this.commits.sealer);
    this.multipart = new Multipart(this.commits, this.buckets, this.objects);
    this.quotas = new SqliteQuotas(this.db);
    this.staleUploadMs = options.staleUploadMs ?? DEFAULT_STALE_UPLOAD_MS;
    this.stopSweeper = startSweeper(this.multipart, this.staleUploadMs);
    this.lifecycle = new LifecycleSweep(this.db, this.objects, this.buckets, this.multipart);
    // One process of a server sweeps: the one that recovered the folder.
    this.stopLifecycle = options.skipRecovery ? () => undefined : startLifecycle(this.lifecycle, options.lifecycleClock ?? clockFromEnv());
  }

  /** Start-up: finish what a crash interrupted. */
  async recover(): Promise<void> {
    await recover({ db: this.db, disk: this.disk, blobs: this.blobs, files: this.files, multipart: this.multipart, staleUploadMs: this.staleUploadMs });
  }

  get hotCache(): HotBlobCache {
    return this.cache;
  }

  get generation(): number {
    return this.metaCache.generation;
  }

  refresh(): void {
    this.metaCache.refresh();
  }

  assertRoomForWrite(): void {
    this.disk.assertRoomForWrite();
  }

  // ---- buckets (buckets.ts)

  createBucket: Store['createBucket'] = (input) => this.buckets.create(input);
  getBucket: Store['getBucket'] = (name) => this.buckets.get(name);
  listBuckets: Store['listBuckets'] = () => this.buckets.list();
  deleteBucket: Store['deleteBucket'] = (name) => this.buckets.delete(name);
  setBucketAcl: Store['setBucketAcl'] = (name, acl) => this.buckets.setAcl(name, acl);
  getBucketConfig: Store['getBucketConfig'] = (name, kind) => this.buckets.getConfig(name, kind);
  setBucketConfig: Store['setBucketConfig'] = (name, kind, value) => this.buckets.setConfig(name, kind, value);
  bucketHasObjects: Store['bucketHasObjects'] = async (name) => this.buckets.hasObjects(name);

  // ---- objects (objects.ts, object-reads.ts)

  readonly supportsVersioning = true;
  readonly supportsEncryption = true;
  // Writes that can grow a bucket: its quota's triggers may refuse them (quota-sql.ts).
  putObject: Store['putObject'] = (input) => SqliteQuotas.refusals(this.objects.put(input));
  headObject: Store['headObject'] = async (bucket, key, version) => (version ? this.objects.headVersion(bucket, key, version) : this.objects.head(bucket, key));
  openObject: Store['openObject'] = (bucket, key, which) => this.reads.open(bucket, key, which);
  deleteObject: Store['deleteObject'] = (bucket, key, versionId) => this.objects.delete(bucket, key, versionId);
  updateObjectMeta: Store['updateObjectMeta'] = (bucket, key, change, versionId) => this.objects.updateMeta(bucket, key, change, versionId);
  copyObject: Store['copyObject'] = (input) => SqliteQuotas.refusals(this.objects.copy(input));
  listObjects: Store['listObjects'] = async (input) => this.objects.list(input);
  listObjectVersions: NonNullable<Store['listObjectVersions']> = async (input) => this.objects.listVersions(input);
  versionUsage: NonNullable<Store['versionUsage']> = async (bucket) => this.objects.usage(bucket);
  quotaUsage: Store['quotaUsage'] = async (bucket) => this.quotas.usage(bucket);

  // ---- multipart (multipart.ts)

  createMultipartUpload: Store['createMultipartUpload'] = (input) => this.multipart.create(input);
  getMultipartUpload: Store['getMultipartUpload'] = async (bucket, uploadId) => this.multipart.get(bucket, uploadId);
  putPart: Store['putPart'] = (input) => this.multipart.putPart(input);
  listParts: Store['listParts'] = async (uploadId, input) => this.multipart.listParts(uploadId, input);
  listMultipartUploads: Store['listMultipartUploads'] = async (bucket, input) => this.multipart.listUploads(bucket, input);
  completeMultipartUpload: Store['completeMultipartUpload'] = (input) => SqliteQuotas.refusals(this.multipart.complete(input));
  abortMultipartUpload: Store['abortMultipartUpload'] = (uploadId) => this.multipart.abort(uploadId);

  /** A segment's blob as stored, ciphertext for encrypted ones (`offload migrate`: encryption/sealed-transfer.ts). */
  readStoredBytes = (segment: Segment): Promise<Readable> => storedBytes(segment, this.files, (id) => this.blobs.inlineBytes(id));

  async close(): Promise<void> {
    await this.commits.close();
    this.stopSweeper();
    this.stopLifecycle();
    this.fds.closeAll();
    if (this.db.open) this.db.close();
  }
}
