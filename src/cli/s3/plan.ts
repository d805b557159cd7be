/**
 * The sync plan: what to send, fix, fetch or delete. Planning only reads (listings, hashes, a few
 * HEADs); carrying the plan out is transfer.ts's job. A plan is a plain list, so other features
 * can add generated uploads (e.g. content-hashed copies and a manifest, from a Buffer) before it runs.
 */
import type { HeaderRules, KeepRules, PathFilter } from './rules.js';
import type { MultipartSettings } from './hash.js';

export type Change = 'created' | 'updated' | 'metadata' | 'deleted';

export type UploadSource =
  | { kind: 'file'; path: string; size: number; mtimeMs: number }
  | { kind: 'buffer'; data: Buffer };

/** Put bytes (a local file or generated data) at bucket/key with these headers. */
export interface UploadAction {
  op: 'upload';
  change: Change;
  bucket: string;
  key: string;
  /** Path relative to the sync root (for messages and rules). */
  rel: string;
  source: UploadSource;
  size: number;
  contentType: string;
  /** Undefined: store none (the server's cache rules answer). */
  cacheControl?: string;
  /** MD5 hex of the whole content when already known (stored as x-amz-meta-md5). */
  md5?: string;
  /** Extra user metadata (x-amz-meta-*), e.g. offload-encoding on precompressed siblings. */
  metadata?: Record<string, string>;
  /** Upload in parts of this size (lib-storage), else one PutObject. */
  partSize?: number;
  /** Hash of the header set, remembered in the state file. */
  headersHash: string;
}

/** Same bytes, new headers: CopyObject onto itself with MetadataDirective REPLACE. */
export interface HeadersAction {
  op: 'headers';
  change: 'metadata';
  bucket: string;
  key: string;
  rel: string;
  size: number;
  contentType: string;
  cacheControl?: string;
  md5?: string;
  headersHash: string;
  /** Write with the public-read ACL (--public, or the object had it: --public only ever adds). */
  public: boolean;
}

export interface DownloadAction {
  op: 'download';
  change: Change;
  bucket: string;
  key: string;
  rel: string;
  path: string;
  size: number;
  lastModified: Date;
}

export interface CopyAction {
  op: 'copy';
  change: Change;
  fromBucket: string;
  fromKey: string;
  bucket: string;
  key: string;
  rel: string;
  size: number;
}

export type TransferAction = UploadAction | HeadersAction | DownloadAction | CopyAction;

export type DeleteAction =
  | { op: 'delete'; change: 'deleted'; target: 's3'; bucket: string; key: string; rel: string }
  | { op: 'delete'; change: 'deleted'; target: 'local'; path: string; rel: string };

export interface Plan {
  transfers: TransferAction[];
  deletions: DeleteAction[];
  /** Files already up to date. */
  skipped: number;
}

export interface SyncSettings {
  public: boolean;
  delete: boolean;
  dryRun: boolean;
  sizeOnly: boolean;
  mtime: boolean;
  /** Transfer everything, comparing nothing (cp, put). */
  force: boolean;
  /** HEAD objects whose content matches but whose applied headers are unknown. */
  checkHeaders: boolean;
  followSymlinks: boolean;
  maxDelete?: number;
  concurrency: number;
  multipart: MultipartSettings;
  rules: HeaderRules;
  filter: PathFilter;
  keep: KeepRules;
}

/** Where planning and transfers report notes and per-item failures. */
export interface Events {
  warn(message: string): void;
  fail(subject: string, message: string): void;
}

/** Where an action's bytes land, as a printable string. */
export function actionTarget(a: TransferAction | DeleteAction): string {
  if (a.op === 'download') return a.path;
  if (a.op === 'delete') return a.target === 'local' ? a.path : `s3://${a.bucket}/${a.key}`;
  return `s3://${a.bucket}/${a.key}`;
}

export function actionSource(a: TransferAction): string | undefined {
  if (a.op === 'upload') return a.source.kind === 'file' ? a.source.path : '(generated)';
  if (a.op === 'download') return `s3://${a.bucket}/${a.key}`;
  if (a.op === 'copy') return `s3://${a.fromBucket}/${a.fromKey}`;
  return undefined;
}

export function actionBytes(a: TransferAction): number {
  return a.op === 'headers' ? 0 : a.size;
}

/**
 * Adds a generated upload (e.g. a content-hashed copy or a manifest built in memory) to a plan,
 * and takes its key off the deletions so `--delete` keeps it. Replaces a planned upload of the same key.
 */
export function addGeneratedUpload(plan: Plan, action: UploadAction): void {
  plan.transfers = plan.transfers.filter((t) => !(t.op !== 'download' && t.bucket === action.bucket && t.key === action.key));
  plan.transfers.push(action);
  plan.deletions = plan.deletions.filter((d) => !(d.target === 's3' && d.bucket === action.bucket && d.key === action.key));
}
