/**
 * Blob bytes as immutable objects in an S3 bucket (Ceph RGW, AWS S3, Garage, R2, another
 * Offload): `<prefix>blobs/<id>`, written once, never rewritten, deleted when the metadata store
 * drops the last reference. A write is durable once the backend acknowledged the PUT (or the
 * CompleteMultipartUpload of a large body), so write() leaves the blob at its final place and
 * place() has nothing to do; a blob that no commit names is an orphan like any other.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { INLINE_LIMIT, type BlobStorage, type WrittenBlob } from '../blobs.js';
import { DirectS3, s3ErrorOf } from './s3-direct.js';

// A body of up to one part is held whole and sent as one PUT of known length with its
// Content-MD5; larger bodies go up as a multipart upload, PART_SIZE bytes at a time, QUEUE parts
// in flight: an upload holds at most PART_SIZE * QUEUE bytes (16 MiB) in memory.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE = 2;
// Deletes in flight at once while reclaiming orphans.
const DELETE_BATCH = 16;

export interface S3BlobsOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket ('' or ending in '/'). */
  prefix: string;
  /** Blobs and uploads younger than this are spared by reclaimOrphans (other nodes may be about to commit them). */
  orphanGraceMs: number;
}

export class S3Blobs implements BlobStorage {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly orphanGraceMs: number;
  private direct: Promise<DirectS3 | undefined> | undefined;

  constructor(options: S3BlobsOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.orphanGraceMs = options.orphanGraceMs;
  }

  private keyOf(id: string): string {
    return `${this.prefix}blobs/${id}`;
  }

  /** The SDK-free path for PUT/GET/DELETE of a blob when the store has an explicit endpoint (s3-direct.ts). */
  private directPath(): Promise<DirectS3 | undefined> {
    this.direct ??= DirectS3.of(this.client, this.bucket);
    return this.direct;
  }

  /** One PUT of a whole body; the store checks it against its MD5. Resolves on the store's 200. */
  private async putWhole(key: string, data: Buffer, md5: Buffer): Promise<void> {
    const direct = await this.directPath();
    if (direct !== undefined) return direct.put(key, data, md5);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ContentLength: data.length, ContentMD5: md5.toString('base64') }));
  }

  async write(body: Readable, opts: { inline?: boolean } = {}): Promise<WrittenBlob> {
    const id = randomBytes(16).toString('hex');
    const md5 = createHash('md5');
    const holdUpTo = opts.inline ? INLINE_LIMIT : 0;
    const held: Buffer[] = [];
    let size = 0;
    let pass: PassThrough | undefined;
    let upload: Upload | undefined;
    let uploaded: Promise<unknown> | undefined;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        md5.update(chunk);
        size += chunk.length;
        if (pass === undefined) {
          held.push(chunk);
          if (size <= Math.max(holdUpTo, PART_SIZE)) continue;
          pass = new PassThrough();
          upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: this.keyOf(id), Body: pass }, partSize: PART_SIZE, queueSize: QUEUE, leavePartsOnError: false });
          uploaded = upload.done();
          // Seen by the race below; never an unhandled rejection.
          uploaded.catch(() => undefined);
          for (const h of held.splice(0)) pass.write(h);
          continue;
        }
        if (!pass.write(chunk)) await Promise.race([once(pass, 'drain'), uploaded]);
      }
      if (pass === undefined) {
        const digest = md5.digest();
        const data = Buffer.concat(held, size);
        if (size <= holdUpTo) return { id, size, md5: digest, data };
        await this.putWhole(this.keyOf(id), data, digest);
        return { id, size, md5: digest, path: `s3://${this.bucket}/${this.keyOf(id)}` };
      }
      pass.end();
      await uploaded;
    } catch (err) {
      pass?.destroy(err as Error);
      await uploaded?.catch(() => undefined);
      // The library leaves a multipart upload open when its body fails: close it, or its parts
      // would wait for reclaimOrphans.
      const uploadId = (upload as unknown as { uploadId?: string } | undefined)?.uploadId;
      if (uploadId !== undefined) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.keyOf(id), UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
    return { id, size, md5: md5.digest(), path: `s3://${this.bucket}/${this.keyOf(id)}` };
  }

  /** Already at its final key: the acknowledged PUT made it durable. */
  async place(): Promise<void> {}

  async readRange(id: string, range: { start: number; end: number }): Promise<Buffer> {
    if (range.end < range.start) return Buffer.alloc(0);
    const body = await this.openRange(id, range);
    if (body === undefined) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    // A store that ignored the Range sent the whole object (openRange only accepts that from 0).
    return bytes.length > range.end - range.start + 1 ? bytes.subarray(0, range.end - range.start + 1) : bytes;
  }

  readStream(id: string, range: { start: number; end: number }): Readable {
    if (range.end < range.start) return Readable.from([]);
    const out = new PassThrough();
    const abort = new AbortController();
    out.once('close', () => abort.abort());
    this.openRange(id, range, abort.signal).then(
      (body) => {
        if (body === undefined) return void out.end();
        body.once('error', (err) => out.destroy(err));
        body.pipe(out);
      },
      (err: unknown) => out.destroy(err as Error),
    );
    return out;
  }

  /** The body of one ranged GET; undefined when the range starts past the end (416); ENOENT when the blob is gone. */
  private async openRange(id: string, range: { start: number; end: number }, signal?: AbortSignal): Promise<Readable | undefined> {
    try {
      const direct = await this.directPath();
      if (direct === undefined) {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id), Range: `bytes=${range.start}-${range.end}` }), { abortSignal: signal });
        return out.Body as Readable;
      }
      const res = await direct.get(this.keyOf(id), range, signal);
      if (res.status === 206 || (res.status === 200 && range.start === 0)) return res.body;
      await direct.expect(res, []);
      throw s3ErrorOf(res.status, '');
    } catch (err) {
      if (statusOf(err) === 416) return undefined;
      throw asNotFound(err, id);
    }
  }

  async discard(blob: WrittenBlob): Promise<void> {
    if (blob.path !== undefined) await this.remove(blob.id).catch(() => undefined);
  }

  async remove(id: string): Promise<void> {
    try {
      const direct = await this.directPath();
      if (direct !== undefined) return await direct.delete(this.keyOf(id));
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  /** Multipart uploads a crash left open (temp), and blob objects no commit names, past the grace period. */
  async reclaimOrphans(isKnown: (id: string) => boolean | Promise<boolean>): Promise<{ temp: number; orphans: number }> {
    const cutoff = Date.now() - this.orphanGraceMs;
    const old = (when: Date | undefined) => this.orphanGraceMs === 0 || (when !== undefined && when.getTime() < cutoff);
    let temp = 0;
    for await (const upload of this.openUploads()) {
      if (!old(upload.Initiated)) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
      temp++;
    }
    let orphans = 0;
    let doomed: string[] = [];
    const flush = async () => {
      await Promise.all(doomed.map((id) => this.remove(id)));
      orphans += doomed.length;
      doomed = [];
    };
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}blobs/`, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const id = object.Key!.slice(this.prefix.length + 'blobs/'.length);
        if (old(object.LastModified) && !(await isKnown(id))) doomed.push(id);
        if (doomed.length >= DELETE_BATCH) await flush();
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    await flush();
    return { temp, orphans };
  }

  private async *openUploads(): AsyncGenerator<{ Key?: string; UploadId?: string; Initiated?: Date }> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: `${this.prefix}blobs/`, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
      yield* page.Uploads ?? [];
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The contract's "gone" is code ENOENT, whatever the backend calls it. */
function asNotFound(err: unknown, id: string): unknown {
  if (statusOf(err) !== 404 && (err as Error).name !== 'NoSuchKey') return err;
  return Object.assign(new Error(`blob ${id} is gone`), { code: 'ENOENT' });
}
