/** Carries out single plan actions against S3 or the local disk, each retried as a whole. */
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type ObjectCannedACL,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { describeError } from './errors.js';
import { cleanEtag, hashFile, md5Hex } from './hash.js';
import type { CopyAction, DownloadAction, HeadersAction, UploadAction } from './plan.js';
import { MD5_META } from './remote.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { LeanPut } from './lean-put.js';

export interface TransferContext {
  client: S3Client;
  public: boolean;
  /** Bytes moved since the last call (for progress); may be called with negative values on retry. */
  onBytes: (delta: number) => void;
  retry?: RetryOptions;
  /** Single-request uploads to an explicit endpoint, bypassing the SDK's middleware (lean-put.ts). */
  leanPut?: LeanPut;
}

const MAX_COPY = 5 * 1024 ** 3;

function acl(ctx: TransferContext): { ACL?: ObjectCannedACL } {
  return ctx.public ? { ACL: 'public-read' } : {};
}

/** CopySource header value: bucket/key with the key URL-encoded (slashes kept). */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

/** Uploads; returns the new ETag and the MD5 of what was sent. */
export async function runUpload(a: UploadAction, ctx: TransferContext): Promise<{ etag: string; md5: string }> {
  let sent = 0;
  const progress = (n: number) => {
    ctx.onBytes(n);
    sent += n;
  };
  const resetProgress = () => {
    ctx.onBytes(-sent);
    sent = 0;
  };
  const common = {
    Bucket: a.bucket,
    Key: a.key,
    ContentType: a.contentType,
    CacheControl: a.cacheControl,
    ...acl(ctx),
  };
  if (a.partSize === undefined) {
    return withRetry(async () => {
      resetProgress();
      const data = a.source.kind === 'buffer' ? a.source.data : await readSmall(a.source.path, a.size);
      const md5 = md5Hex(data);
      const md5Base64 = Buffer.from(md5, 'hex').toString('base64');
      const metadata = { ...a.metadata, [MD5_META]: md5 };
      const lean = await ctx.leanPut?.({ bucket: a.bucket, key: a.key, body: data, md5Base64, contentType: a.contentType, cacheControl: a.cacheControl, acl: common.ACL, metadata });
      if (lean !== undefined) {
        progress(data.length);
        return { etag: cleanEtag(lean) || md5, md5 };
      }
      const out = await ctx.client.send(new PutObjectCommand({ ...common, Body: data, ContentLength: data.length, ContentMD5: md5Base64, Metadata: metadata }));
      progress(data.length);
      return { etag: cleanEtag(out.ETag) || md5, md5 };
    }, ctx.retry);
  }
  const source = a.source;
  const md5 = a.md5 ?? (source.kind === 'buffer' ? md5Hex(source.data) : (await hashFile(source.path)).md5);
  return withRetry(async () => {
    resetProgress();
    const body = source.kind === 'buffer' ? source.data : createReadStream(source.path);
    const upload = new Upload({
      client: ctx.client,
      params: { ...common, Body: body, Metadata: { ...a.metadata, [MD5_META]: md5 } },
      partSize: a.partSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    let last = 0;
    upload.on('httpUploadProgress', (p) => {
      const loaded = p.loaded ?? 0;
      if (loaded > last) {
        progress(loaded - last);
        last = loaded;
      }
    });
    const out = await upload.done();
    if (sent < a.size) progress(a.size - sent);
    return { etag: cleanEtag('ETag' in out ? out.ETag : undefined), md5 };
  }, ctx.retry);
}

// fs.promises.readFile costs four thread-pool round trips (open, fstat, read, close); for a small
// file one blocking read is several times cheaper and holds the event loop for microseconds.
const SYNC_READ_LIMIT = 256 * 1024;

function readSmall(path: string, size: number): Promise<Buffer> | Buffer {
  return size <= SYNC_READ_LIMIT ? readFileSync(path) : readFile(path);
}

/** Rewrites headers in place (CopyObject onto itself, MetadataDirective REPLACE); returns the ETag. */
export async function runHeaders(a: HeadersAction, ctx: TransferContext): Promise<string> {
  if (a.size > MAX_COPY) throw new Error('objects over 5 GiB cannot have their headers changed in place; re-upload it');
  return withRetry(async () => {
    const out = await ctx.client.send(
      new CopyObjectCommand({
        Bucket: a.bucket,
        Key: a.key,
        CopySource: copySource(a.bucket, a.key),
        MetadataDirective: 'REPLACE',
        ContentType: a.contentType,
        CacheControl: a.cacheControl,
        Metadata: a.md5 ? { [MD5_META]: a.md5 } : {},
        ...(a.public ? { ACL: 'public-read' as const } : {}),
      }),
    );
    return cleanEtag(out.CopyObjectResult?.ETag);
  }, ctx.retry);
}

export async function runCopy(a: CopyAction, ctx: TransferContext): Promise<void> {
  if (a.size > MAX_COPY) throw new Error('objects over 5 GiB cannot be copied between buckets yet');
  await withRetry(
    () => ctx.client.send(new CopyObjectCommand({ Bucket: a.bucket, Key: a.key, CopySource: copySource(a.fromBucket, a.fromKey), MetadataDirective: 'COPY', ...acl(ctx) })),
    ctx.retry,
  );
  ctx.onBytes(a.size);
}

/** Downloads to a temporary file next to the target, then renames it into place with the object's time. */
export async function runDownload(a: DownloadAction, ctx: TransferContext): Promise<void> {
  await mkdir(dirname(a.path), { recursive: true });
  await withRetry(async () => {
    const tmp = `${a.path}.offload-${randomBytes(4).toString('hex')}.tmp`;
    let got = 0;
    try {
      const out = await ctx.client.send(new GetObjectCommand({ Bucket: a.bucket, Key: a.key }));
      const body = out.Body;
      if (!(body instanceof Readable)) throw new Error('no response body');
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          got += chunk.length;
          ctx.onBytes(chunk.length);
          cb(null, chunk);
        },
      });
      await pipeline(body, count, createWriteStream(tmp));
      const expected = out.ContentLength ?? a.size;
      if (got !== expected) throw Object.assign(new Error(`short download: ${got} of ${expected} bytes`), { code: 'IncompleteBody' });
      const time = out.LastModified ?? a.lastModified;
      await utimes(tmp, time, time);
      await rename(tmp, a.path);
    } catch (err) {
      ctx.onBytes(-got);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }, ctx.retry);
}

export interface DeleteResult {
  deleted: string[];
  failed: { key: string; message: string }[];
}

/** Deletes keys in batches of 1000 (DeleteObjects). */
export async function deleteKeys(client: S3Client, bucket: string, keys: string[], retry?: RetryOptions): Promise<DeleteResult> {
  const result: DeleteResult = { deleted: [], failed: [] };
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    try {
      const out = await withRetry(
        () => client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
        retry,
      );
      const failed = new Set<string>();
      for (const e of out.Errors ?? []) {
        if (e.Key === undefined) continue;
        failed.add(e.Key);
        result.failed.push({ key: e.Key, message: [e.Code, e.Message].filter(Boolean).join(': ') || 'delete failed' });
      }
      for (const key of batch) if (!failed.has(key)) result.deleted.push(key);
    } catch (err) {
      const message = describeError(err);
      for (const key of batch) result.failed.push({ key, message });
    }
  }
  return result;
}
