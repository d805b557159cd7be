/**
 * The Store on PostgreSQL metadata: what lets several stateless Offload processes (nodes) serve
 * the same buckets. Blob bytes go to a BlobStorage (by default BlobFiles in a folder; a shared
 * one, or an S3 backend, for nodes on several machines). Each concern has its module:
 *   db.ts          the pool, round-trip counting, lost connections as 503 ServiceUnavailable
 *   migrations.ts  the schema and its versioned migrations, under an advisory lock
 *   state.ts       refresh(): the change counter, bucket state, the object-metadata cache
 *   objects.ts     object versions (put, copy, delete, metadata updates, listing)
 *   versions.ts    reading versions by id, ListObjectVersions, version usage
 *   lifecycle.ts   the lifecycle sweep, one node at a time
 *   multipart.ts   multipart uploads
 *   blob-gc.ts     blob reference counts, pending blobs and the collector (grace period)
 *   reads.ts       opening an object for reading
 *   sealed.ts      encryption at rest (master-key-record.ts: which master key the nodes share; rotate-pg.ts)
 */
import { BlobCache, type BlobCacheOptions } from '../blob-cache.js';
import { BlobFiles, type BlobStorage } from '../blobs.js';
import type { HotBlobCache, Segment, Store } from '../types.js';
import type { Readable } from 'node:stream';
import { storedBytes } from '../encryption/sealed-transfer.js';
import { PgBlobs } from './blob-gc.js';
import { PgBuckets } from './buckets.js';
import { PgDb, type PgDbOptions } from './db.js';
import { migrate } from './migrations.js';
import { PgMultipart } from './multipart.js';
import { PgObjects } from './objects.js';
import { PgReads } from './reads.js';
import { PgState } from './state.js';
import { PgVersions } from './versions.js';
import { clockFromEnv } from '../lifecycle.js';
import { PgLifecycle } from './lifecycle.js';
import { pgQuotaRefusals, pgQuotaUsage } from './quota.js';
import { KeyRing } from '../encryption/keyring.js';
import type { MasterKey } from '../encryption/keys.js';
import { claimMasterKey, RecordedMasterKey, type MasterKeyRecord } from './master-key-record.js';
import { PgSealing } from './sealed.js';

export interface PgStoreOptions extends PgDbOptions {
  /** Where blob bytes go (default: BlobFiles in `blobDir`). */
  blobs?: BlobStorage;
  /** The folder for the default BlobFiles (required when `blobs` is not given). */
  blobDir?: string;
  /**
   * How long an unreferenced or pending blob is kept before the collector removes it (default
   * 15 minutes): the longest a GET of a replaced version, or the step from a placed blob to its
   * commit, may take.
   */
  blobGraceMs?: number;
  /** Multipart uploads untouched for this long are aborted (default 7 days). */
  staleUploadMs?: number;
  /** The in-memory cache of small hot objects (per process). */
  cache?: BlobCacheOptions;
  /** The lifecycle sweep's clock and period (default: the real time, hourly; tests: lifecycle.ts clockFromEnv). */
  lifecycleClock?: { now: () => number; everyMs: number };
  /** Wraps SSE-S3 data keys (--master-key-file); must be the key master_key_record names (master-key-record.ts). */
  masterKey?: MasterKey;
  /** The key a rotation is replacing (--previous-master-key-file): data keys it wraps stay readable. */
  previousMasterKey?: MasterKey;
}

const DEFAULT_GRACE_MS = 15 * 60 * 1000;
const DEFAULT_STALE_UPLOAD_MS = 7 * 24 * 3600 * 1000;
const SWEEP_UPLOADS_EVERY_MS = 3600 * 1000;

/** Opens (and migrates) the metadata database at `url`. */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const db = new PgDb(url, options);
  try {
    await migrate(db);
    const ring = new KeyRing(options.masterKey, options.previousMasterKey);
    // Before serving anything: a node with another master key than the others is refused here.
    const record = await claimMasterKey(db, ring);
    const store = new PgStore(db, options, { ring, record });
    await store.refresh();
    // What nodes that died left behind (pending blobs past the grace period) goes now.
    await store.collectBlobs();
    return store;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export class PgStore implements Store {
  readonly state: PgState;
  private readonly cache: BlobCache;
  private readonly blobs: PgBlobs;
  private readonly buckets: PgBuckets;
  private readonly objects: PgObjects;
  private readonly multipart: PgMultipart;
  private readonly reads: PgReads;
  private readonly versions: PgVersions;
  private readonly sweep: NodeJS.Timeout;
  /** Applies the buckets' lifecycle rules, on one node at a time (lifecycle.ts); exposed for tests that drive the clock. */
  readonly lifecycle: PgLifecycle;

  readonly supportsEncryption = true;

  constructor(readonly db: PgDb, options: PgStoreOptions, keys: { ring: KeyRing; record?: MasterKeyRecord } = { ring: new KeyRing() }) {
    const files = options.blobs ?? (options.blobDir !== undefined ? new BlobFiles(options.blobDir) : undefined);
    if (!files) throw new Error('PgStore needs a BlobStorage or a blob folder');
    this.cache = new BlobCache(options.cache);
    this.state = new PgState(db);
    this.blobs = new PgBlobs(db, files, this.cache, options.blobGraceMs ?? DEFAULT_GRACE_MS, new PgSealing(keys.ring, new RecordedMasterKey(db, keys.ring, keys.record), this.cache));
    this.objects = new PgObjects(db, this.state, this.blobs);
    this.multipart = new PgMultipart(db, this.state, this.blobs);
    this.buckets = new PgBuckets(db, this.state, this.blobs, () => this.multipart);
    this.versions = new PgVersions(db, this.state, this.objects);
    this.reads = new PgReads(this.objects, this.blobs, this.cache, this.state, this.versions);
    this.lifecycle = new PgLifecycle(db, this.state, this.objects, this.multipart);
    this.lifecycle.start(options.lifecycleClock ?? clockFromEnv());
    this.blobs.start();
    const staleMs = options.staleUploadMs ?? DEFAULT_STALE_UPLOAD_MS;
    this.sweep = setInterval(() => void this.multipart.reclaimStale(staleMs).catch(() => undefined), SWEEP_UPLOADS_EVERY_MS);
    this.sweep.unref();
  }

  get hotCache(): HotBlobCache {
    return this.cache;
  }

  get generation(): number {
    return this.state.generation;
  }

  refresh(): Promise<void> {
    return this.state.refresh();
  }

  /** Reclaims unreferenced blobs past the grace period now (the collector also runs by itself). */
  collectBlobs(): Promise<number> {
    return this.blobs.collect();
  }

  /** Aborts uploads older than maxAgeMs now (also done every hour). */
  reclaimStaleUploads(maxAgeMs: number): Promise<number> {
    return this.multipart.reclaimStale(maxAgeMs);
  }

  // ---- buckets (buckets.ts; reads from state.ts)

  createBucket: Store['createBucket'] = (input) => this.buckets.create(input);
  getBucket: Store['getBucket'] = (name) => this.state.bucket(name);
  listBuckets: Store['listBuckets'] = () => this.state.listBuckets();
  deleteBucket: Store['deleteBucket'] = (name) => this.buckets.delete(name);
  setBucketAcl: Store['setBucketAcl'] = (name, acl) => this.buckets.setAcl(name, acl);
  getBucketConfig: Store['getBucketConfig'] = (name, kind) => this.state.config(name, kind);
  setBucketConfig: Store['setBucketConfig'] = (name, kind, value) => this.buckets.setConfig(name, kind, value);
  bucketHasObjects: Store['bucketHasObjects'] = (name) => this.buckets.hasObjects(name);

  // ---- objects (objects.ts, reads.ts)

  readonly supportsVersioning = true;
  // Writes that can grow a bucket: its quota's trigger may refuse them (quota.ts).
  putObject: Store['putObject'] = (input) => pgQuotaRefusals(this.objects.put(input));
  headObject: Store['headObject'] = (bucket, key, version) => (version ? this.versions.head(bucket, key, version) : this.objects.head(bucket, key));
  openObject: Store['openObject'] = (bucket, key, which) => this.reads.open(bucket, key, which);
  deleteObject: Store['deleteObject'] = (bucket, key, versionId) => this.objects.delete(bucket, key, versionId);
  updateObjectMeta: Store['updateObjectMeta'] = (bucket, key, change, versionId) => this.objects.updateMeta(bucket, key, change, versionId);
  copyObject: Store['copyObject'] = (input) => pgQuotaRefusals(this.objects.copy(input));
  listObjects: Store['listObjects'] = (input) => this.objects.list(input);
  listObjectVersions: NonNullable<Store['listObjectVersions']> = (input) => this.versions.list(input);
  versionUsage: NonNullable<Store['versionUsage']> = (bucket) => this.versions.usage(bucket);
  quotaUsage: Store['quotaUsage'] = (bucket) => pgQuotaUsage(this.db, bucket);

  // ---- multipart (multipart.ts)

  createMultipartUpload: Store['createMultipartUpload'] = (input) => this.multipart.create(input);
  getMultipartUpload: Store['getMultipartUpload'] = (bucket, uploadId) => this.multipart.get(bucket, uploadId);
  putPart: Store['putPart'] = (input) => this.multipart.putPart(input);
  listParts: Store['listParts'] = (uploadId, input) => this.multipart.listParts(uploadId, input);
  listMultipartUploads: Store['listMultipartUploads'] = (bucket, input) => this.multipart.listUploads(bucket, input);
  completeMultipartUpload: Store['completeMultipartUpload'] = (input) => pgQuotaRefusals(this.multipart.complete(input));
  abortMultipartUpload: Store['abortMultipartUpload'] = (uploadId) => this.multipart.abort(uploadId);

  /** A segment's blob as stored, ciphertext for encrypted ones (`offload migrate`: encryption/sealed-transfer.ts). */
  readStoredBytes = (segment: Segment): Promise<Readable> => storedBytes(segment, this.blobs.files, (id) => this.blobs.inlineBytes(id));

  async close(): Promise<void> {
    clearInterval(this.sweep);
    await this.lifecycle.stop();
    await this.blobs.stop();
    await this.db.close();
  }
}
