/**
 * The storage engine's narrow interface. The S3 layer talks only to `Store`;
 * `engine.ts` implements it on SQLite metadata plus immutable blob files; test/conformance/store
 * holds the contract any implementation must pass.
 *
 * Keys and bucket names are plain JS strings; ordering everywhere is S3's:
 * by the UTF-8 bytes of the key (what SQLite's BINARY collation does on TEXT).
 */
import type { Readable } from 'node:stream';
import type { PooledBuffer } from './buffer-pool.js';
import type { ListVersionsInput, VersionSelector, VersionUsage } from './version-types.js';
import type { EncryptionRequest, ObjectEncryption, SegmentEncryption } from './encryption/types.js';
import type { Acl, Checksum, ChecksumAlgorithm } from './acl-checksum-types.js';
import type { StoreQuotas } from './quota.js';

export type { EncryptionRequest, ObjectEncryption, SegmentEncryption };
export type { Acl, CannedAcl, Checksum, ChecksumAlgorithm, Grant } from './acl-checksum-types.js';

/** The headers S3 stores with an object and returns on GET/HEAD. */
export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** `x-amz-website-redirect-location` */
  websiteRedirectLocation?: string;
  /** User metadata without the `x-amz-meta-` prefix, names lower-cased. */
  userMeta: Record<string, string>;
}

export interface ObjectMeta extends ObjectHeaders {
  bucket: string;
  key: string;
  size: number;
  /** Quoted, as sent in the ETag header: `"<md5 hex>"` or `"<hex>-N"` for multipart. */
  etag: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
  owner: string;
  acl: Acl;
  checksum?: Checksum;
  /** Object tags (key -> value). */
  tags: Record<string, string>;
  /** For multipart objects: size of each part in order (for partNumber reads); absent for single PUTs. */
  partSizes?: number[];
  /** Opaque to callers: the blobs the bytes live in, in order. */
  segments: Segment[];
  /** The version's id; absent for the `null` version (every object of a never-versioned bucket). */
  versionId?: string;
  /** This version is a delete marker (no bytes; only ever returned when a version was asked for). */
  deleteMarker?: true;
  /** Opaque to callers: the version's place in its key's history (larger is newer). */
  seq?: number;
  /** Server-side encryption at rest (SSE-S3 or SSE-C); absent for plain objects. */
  sse?: ObjectEncryption;
}

export type { ListVersionsInput, VersionSelector, VersioningState, VersionUsage } from './version-types.js';
export interface VersionEntry {
  /** The version (meta.deleteMarker for a marker; a marker's size is 0 and segments empty). */
  meta: ObjectMeta;
  isLatest: boolean;
}

export interface ListVersionsResult {
  /** Versions and delete markers in S3's order: key ascending, newest first within a key. */
  versions: VersionEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/** A stretch of an object's bytes stored in one immutable blob. */
export interface Segment {
  blobId: string;
  size: number;
  /** The blob's bytes are in the database (small objects), not in a file. Only ever a single-segment object's. */
  inline?: true;
  /** The blob's bytes are encrypted (storage/encryption/); size stays the plaintext size. */
  enc?: SegmentEncryption;
}

export interface BucketInfo {
  name: string;
  owner: string;
  createdAt: number;
  region: string;
  acl: Acl;
}

/** Arbitrary per-bucket configuration documents (policy JSON, CORS XML, website, cache rules, ...). */
export type BucketConfigKind = 'policy' | 'cors' | 'website' | 'tagging' | 'cache-rules' | 'logging' | 'ownership' | 'public-access-block' | 'encryption' | 'lifecycle' | 'origin' | 'versioning' | 'limits';

export interface PutObjectInput extends ObjectHeaders {
  bucket: string;
  key: string;
  /** The decoded body. If it emits 'error' the write is abandoned and nothing is committed. */
  body: Readable;
  owner: string;
  acl: Acl;
  tags?: Record<string, string>;
  /**
   * Read only after the body has ended and `beforeCommit` has run: the S3 layer may define it
   * as a getter, because a trailing checksum is known only at the end of the body.
   */
  checksum?: Checksum;
  /**
   * Called after every byte is durable on disk and before the metadata commit, with the
   * MD5 and size the engine computed. Throwing here (e.g. S3Error BadDigest) abandons the write.
   */
  beforeCommit?: (written: { md5: Buffer; size: number }) => void | Promise<void>;
  /**
   * Checked inside the commit transaction against the current version of the key
   * (undefined when absent): the place for If-None-Match / If-Match on writes, so
   * that two racing writers cannot both pass. Throwing abandons the write.
   */
  precondition?: (current: ObjectMeta | undefined) => void;
  /** Encrypt the bytes at rest (SSE-S3, or SSE-C with the customer's key). */
  encryption?: EncryptionRequest;
}

/** An open, pinned view of one object version: reading it gives exactly these bytes even if the key is overwritten meanwhile. */
export interface ObjectReader {
  meta: ObjectMeta;
  /** The bytes [start, end] when the object is held in memory (small hot objects); otherwise undefined: use stream(). */
  bytes(range?: { start: number; end: number }): Buffer | undefined;
  /**
   * Reads [start, end] into one buffer (for bodies small enough to hold: one read, one write).
   * The buffer may be a pooled one: recycle() it once nothing reads it any more.
   */
  read(range?: { start: number; end: number }): Promise<PooledBuffer>;
  /** A stream of bytes [start, end] inclusive (default whole object). May be called more than once. */
  stream(range?: { start: number; end: number }): Readable;
  /**
   * The same bytes as chunks of up to 1 MiB in pooled buffers, for a sender that recycles each
   * once it is written (a large download then allocates nothing per chunk). Stopping the
   * iteration early (return()) is fine.
   */
  chunks(range?: { start: number; end: number }): AsyncIterable<PooledBuffer>;
  /** Releases the pinned version (file descriptors). Safe to call twice; streams already open finish first. */
  close(): void;
}

export interface ListInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  /** Return only keys (and common prefixes) strictly after this one (marker / start-after / continuation). */
  after?: string;
  maxKeys: number;
}

export interface ListResult {
  /** Objects and common prefixes interleaved in key order, at most maxKeys of them together. */
  objects: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned: the marker for the next page when truncated. */
  lastReturned?: string;
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  owner: string;
  /** Headers, ACL, tags and checksum algorithm given at CreateMultipartUpload, applied on completion. */
  headers: ObjectHeaders;
  acl: Acl;
  tags: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  /** Encryption given at CreateMultipartUpload: every part is encrypted so, and the object records it. */
  sse?: ObjectEncryption;
}

export interface PartInfo {
  partNumber: number;
  size: number;
  /** Quoted MD5 of the part. */
  etag: string;
  lastModified: number;
  checksum?: Checksum;
  segment: Segment;
}

/** A store's cache of blob bytes, keyed by blob id (blobs are immutable, so an entry is never stale). */
export interface HotBlobCache {
  readonly hits: number;
  readonly misses: number;
  /** The blob's bytes when they are cached; an absent entry is not counted as a miss. */
  getIfCached(blobId: string): Buffer | undefined;
}

/** The engine. Every method that changes state resolves only once the change is durable. */
export interface Store extends StoreQuotas {
  /**
   * Throws (XOffloadStorageFull) while the data folder's volume is below its free-space threshold:
   * called before an upload's body is read, so that an Expect: 100-continue client sends none.
   */
  assertRoomForWrite?(): void;
  // Buckets
  createBucket(input: { name: string; owner: string; region: string; acl: Acl }): Promise<BucketInfo>;
  getBucket(name: string): BucketInfo | undefined;
  listBuckets(): BucketInfo[];
  /** Throws StoreError 'BucketNotEmpty' when objects remain; multipart uploads in progress are aborted. */
  deleteBucket(name: string): Promise<void>;
  setBucketAcl(name: string, acl: Acl): Promise<void>;
  getBucketConfig(name: string, kind: BucketConfigKind): string | undefined;
  /** undefined deletes. */
  setBucketConfig(name: string, kind: BucketConfigKind, value: string | undefined): Promise<void>;
  /** Whether the bucket holds at least one object (on a versioning store: any version or delete marker). */
  bucketHasObjects(name: string): Promise<boolean>;

  /**
   * Whether this store keeps object versions. When true, the bucket config 'versioning'
   * ('Enabled' | 'Suspended', absent when never enabled) decides, inside each write's commit,
   * whether a write adds a version, replaces the null version, or (never enabled) replaces the
   * object; a store without it is unversioned and the S3 layer answers versioning requests
   * NotImplemented. Absent means false.
   */
  readonly supportsVersioning?: boolean;
  /**
   * Whether this store encrypts at rest what PutObjectInput.encryption / putPart ask for (SSE-S3,
   * SSE-C). A store without it must never be handed an encryption request: the S3 layer refuses
   * SSE with NotImplemented instead of storing plaintext under an SSE answer. Absent means false.
   */
  readonly supportsEncryption?: boolean;

  // Objects. On a versioning store every write and delete follows the bucket's versioning state;
  // `versionId` (or a VersionSelector) addresses one version instead of the current one.
  /**
   * The write's result carries the new version's versionId (absent: the null version).
   * precondition sees the current version (not a delete marker: a key whose latest version is
   * a marker counts as absent).
   */
  putObject(input: PutObjectInput): Promise<ObjectMeta>;
  /** The current version (undefined when absent or its latest version is a delete marker), or the version selected. */
  headObject(bucket: string, key: string, version?: VersionSelector): Promise<ObjectMeta | undefined>;
  /**
   * Pins the current version (or the one named) for reading; undefined when absent or a delete
   * marker. customerKey: the SSE-C key, without which an SSE-C object cannot be read.
   */
  openObject(bucket: string, key: string, which?: { versionId?: string; customerKey?: Buffer }): Promise<ObjectReader | undefined>;
  /**
   * Without versionId: removes the current object (never-versioned bucket) or writes a delete
   * marker (versioned: Enabled adds one, Suspended makes the null version one), returning the
   * marker (deleteMarker, versionId). With versionId: removes exactly that version (a marker
   * too; the next newest version becomes current), returning it. undefined when there was none.
   */
  deleteObject(bucket: string, key: string, versionId?: string): Promise<ObjectMeta | undefined>;
  /** Replaces headers/ACL/tags of the current version (or the one named) without touching its bytes; precondition as in putObject. */
  updateObjectMeta(bucket: string, key: string, change: (current: ObjectMeta) => Partial<Pick<ObjectMeta, keyof ObjectHeaders | 'acl' | 'tags'>>, versionId?: string): Promise<ObjectMeta>;
  /**
   * CopyObject without copying bytes: the new object shares the source version's blobs
   * (blobs are immutable and reclaimed only when nothing references them). Throws
   * StoreError NoSuchKey when the source is gone (source.versionId names the version). precondition as in putObject.
   */
  copyObject(input: { source: ObjectMeta; bucket: string; key: string; headers: ObjectHeaders; owner: string; acl: Acl; tags: Record<string, string>; precondition?: PutObjectInput['precondition'] }): Promise<ObjectMeta>;
  listObjects(input: ListInput): Promise<ListResult>;
  /** ListObjectVersions, a page at a time from an index (never every row); only on a versioning store. */
  listObjectVersions?(input: ListVersionsInput): Promise<ListVersionsResult>;
  /** Bytes held by current and noncurrent versions, per bucket; only on a versioning store. */
  versionUsage?(bucket: string): Promise<VersionUsage>;

  // Multipart
  createMultipartUpload(input: Omit<MultipartUpload, 'uploadId' | 'initiated'>): Promise<MultipartUpload>;
  getMultipartUpload(bucket: string, uploadId: string): Promise<MultipartUpload | undefined>;
  /** Streams one part to disk (replacing an earlier part with the same number). */
  putPart(input: { uploadId: string; partNumber: number; body: Readable; checksum?: Checksum; beforeCommit?: PutObjectInput['beforeCommit']; encryption?: EncryptionRequest }): Promise<PartInfo>;
  listParts(uploadId: string, input: { after?: number; maxParts: number }): Promise<{ parts: PartInfo[]; isTruncated: boolean }>;
  listMultipartUploads(bucket: string, input: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number }): Promise<{ uploads: MultipartUpload[]; isTruncated: boolean }>;
  /**
   * Makes the object from the chosen parts (whole parts, in order) without copying bytes:
   * the object's segments are the parts' blobs. Atomic: either the complete object or nothing.
   */
  completeMultipartUpload(input: { uploadId: string; parts: { partNumber: number; size: number; segment: Segment }[]; etag: string; checksum?: Checksum; precondition?: PutObjectInput['precondition'] }): Promise<ObjectMeta>;
  abortMultipartUpload(uploadId: string): Promise<void>;

  /**
   * Called (and awaited) at the start of every request: drops cached bucket state if another
   * process (another server worker, another node of a cluster, the keys CLI) committed since, so
   * the request reads current state. Bucket reads (getBucket, listBuckets, getBucketConfig) stay
   * synchronous because they answer from that per-request-fresh state; object and upload reads are
   * asynchronous because a shared metadata store (PostgreSQL) answers them over the network.
   */
  refresh(): void | Promise<void>;

  /**
   * Changes whenever anything this process may have cached from the store could have changed
   * (its own writes, and other processes' commits seen by refresh()).
   */
  readonly generation: number;

  /**
   * The in-memory cache of small hot objects, when the implementation keeps one: its counters go
   * into the usage stats, and GETs may answer from it before reading any metadata.
   */
  readonly hotCache?: HotBlobCache;

  /** Closes the database; pending writes finish first. */
  close(): Promise<void>;
}

export { StoreError, type StoreErrorCode } from '../errors/store-error.js';
