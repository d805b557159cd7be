/**
 * Per-bucket access logs in S3's server-access-log format, for buckets whose 'logging'
 * configuration is enabled. Lines are buffered in memory and appended to DATA/logs/<bucket>.log
 * with each usage flush.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../storage/types.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../storage/permissions.js';
import type { Principal } from '../auth/types.js';
import { redactUrl } from '../util/redact.js';

/** What a log line says about one request. */
export interface AccessLogEntry {
  bucket: string;
  key: string | undefined;
  op: string;
  method: string;
  url: string;
  httpVersion: string;
  status: number;
  remoteIp: string | undefined;
  principal: Principal;
  requestId: string;
  bytesSent: number;
  objectSize: number | undefined;
  totalMs: number;
  referer: string | undefined;
  userAgent: string | undefined;
  host: string | undefined;
  /** Epoch ms. */
  time: number;
  website: boolean;
}

/** Turns a bucket's access log on or off (the 'logging' bucket configuration). */
export async function setAccessLog(store: Store, bucket: string, enabled: boolean): Promise<void> {
  await store.setBucketConfig(bucket, 'logging', enabled ? JSON.stringify({ enabled: true }) : undefined);
}

/** Enabled by `setAccessLog`, or by an S3 BucketLoggingStatus document with a LoggingEnabled element. */
export function accessLogEnabled(store: Store, bucket: string): boolean {
  const value = store.getBucketConfig(bucket, 'logging');
  if (value === undefined || value === '') return false;
  if (value.startsWith('{')) {
    try {
      return (JSON.parse(value) as { enabled?: unknown }).enabled === true;
    } catch {
      return false;
    }
  }
  return value.includes('<LoggingEnabled');
}

export function accessLogFile(dataDir: string, bucket: string): string {
  return join(dataDir, 'logs', `${bucket}.log`);
}

export class AccessLogBuffer {
  private lines = new Map<string, string[]>();

  constructor(private readonly store: Store, private readonly dataDir: string) {}

  /** Buffers a line when the bucket logs; a cached configuration read otherwise. */
  maybeAdd(entry: AccessLogEntry): void {
    if (!accessLogEnabled(this.store, entry.bucket)) return;
    const owner = this.store.getBucket(entry.bucket)?.owner ?? '-';
    let list = this.lines.get(entry.bucket);
    if (list === undefined) {
      list = [];
      this.lines.set(entry.bucket, list);
    }
    list.push(formatAccessLogLine(entry, owner));
  }

  /** Appends every buffered line to its bucket's file. */
  flush(): void {
    if (this.lines.size === 0) return;
    const pending = this.lines;
    this.lines = new Map();
    mkdirSync(join(this.dataDir, 'logs'), { recursive: true, mode: PRIVATE_DIR_MODE });
    for (const [bucket, list] of pending) appendFileSync(accessLogFile(this.dataDir, bucket), list.join(''), { mode: PRIVATE_FILE_MODE });
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `[06/Feb/2019:00:00:38 +0000]` */
export function logTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

const OPERATIONS: Record<string, string> = {
  GetObject: 'GET.OBJECT',
  HeadObject: 'HEAD.OBJECT',
  PutObject: 'PUT.OBJECT',
  DeleteObject: 'DELETE.OBJECT',
  CopyObject: 'COPY.OBJECT',
  ListObjects: 'GET.BUCKET',
  ListObjectsV2: 'GET.BUCKET',
  HeadBucket: 'HEAD.BUCKET',
  CreateMultipartUpload: 'POST.UPLOADS',
  UploadPart: 'PUT.PART',
  CompleteMultipartUpload: 'POST.UPLOAD',
  AbortMultipartUpload: 'DELETE.UPLOAD',
};

function operation(e: AccessLogEntry): string {
  const name = OPERATIONS[e.op] ?? `${e.method}.${e.op.toUpperCase()}`;
  return `${e.website ? 'WEBSITE' : 'REST'}.${name}`;
}

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));
const quoted = (v: string | undefined): string => `"${v === undefined || v === '' ? '-' : v.replace(/["\\\r\n]/g, '')}"`;

/** One line of S3's server access log format (fields in the documented order). */
export function formatAccessLogLine(e: AccessLogEntry, owner: string): string {
  const user = e.principal.kind === 'user' ? e.principal : undefined;
  const key = e.key === undefined ? '-' : encodeURIComponent(e.key).replace(/%2F/g, '/');
  return [
    owner,
    e.bucket,
    logTime(e.time),
    dash(e.remoteIp),
    dash(user?.credential.owner),
    e.requestId,
    operation(e),
    key,
    quoted(`${e.method} ${redactUrl(e.url)} HTTP/${e.httpVersion}`),
    e.status,
    '-',
    e.bytesSent > 0 ? e.bytesSent : '-',
    dash(e.objectSize),
    Math.round(e.totalMs),
    '-',
    quoted(e.referer === undefined ? undefined : redactUrl(e.referer)),
    quoted(e.userAgent),
    '-',
    e.requestId,
    user ? `SigV${user.signatureVersion}` : '-',
    '-',
    user ? (user.presigned ? 'QueryString' : 'AuthHeader') : '-',
    dash(e.host),
    '-',
    '-',
    '-',
  ].join(' ') + '\n';
}
