/** Multipart uploads with the SDK and lib-storage: round trips, validation, checksums, copies of ranges. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand, UploadPartCopyCommand,
  type S3Client, type S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'multipart';
const MiB = 1024 * 1024;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('multipart uploads', () => {
  it('round-trips a 23 MiB file through lib-storage with parallel parts', async () => {
    const body = randomBytes(23 * MiB);
    const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: 'video/big.mp4', Body: body, ContentType: 'video/mp4' }, partSize: 5 * MiB, queueSize: 4 });
    const done = await upload.done();
    const parts = [0, 1, 2, 3, 4].map((i) => md5(body.subarray(i * 5 * MiB, Math.min((i + 1) * 5 * MiB, body.length))));
    expect(done.ETag).toBe(`"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-5"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'video/big.mp4' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ContentType).toBe('video/mp4');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'video/big.mp4' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'video/big.mp4', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
    expect(Buffer.from(await range.Body!.transformToByteArray()).equals(body.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
    const part2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'video/big.mp4', PartNumber: 2 }));
    expect(part2.PartsCount).toBe(5);
    expect(Buffer.from(await part2.Body!.transformToByteArray()).equals(body.subarray(5 * MiB, 10 * MiB))).toBe(true);
  });

  it('validates parts on completion', async () => {
    const key = 'validate.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const small = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(1024) }));
    const last = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: randomBytes(1024) }));
    const tooSmall = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: small.ETag }, { PartNumber: 2, ETag: last.ETag }] } })));
    expect(tooSmall.name).toBe('EntityTooSmall');
    const order = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last.ETag }, { PartNumber: 1, ETag: small.ETag }] } })));
    expect(order.name).toBe('InvalidPartOrder');
    const wrong = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })));
    expect(wrong.name).toBe('InvalidPart');
    const missing = await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 3, ETag: last.ETag }] } })));
    expect(missing.name).toBe('InvalidPart');
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, 1024], [2, 1024]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(UploadId);
    // A single small part is a valid (last) part.
    const one = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last.ETag }] } }));
    expect(one.ETag).toMatch(/-1"$/);
    expect((await errorOf(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId })))).name).toBe('NoSuchUpload');
  });

  it('aborts', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'aborted' }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'aborted', UploadId, PartNumber: 1, Body: 'x' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId }));
    expect((await errorOf(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'aborted', UploadId, PartNumber: 2, Body: 'x' })))).name).toBe('NoSuchUpload');
    expect((await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'aborted' })))).name).toBe('NoSuchKey');
  });

  it('copies ranges of another object into parts', async () => {
    const source = randomBytes(6 * MiB + 100);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source.bin', Body: source }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'assembled.bin' }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'assembled.bin', UploadId, PartNumber: 1, CopySource: `${bucket}/source.bin`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'assembled.bin', UploadId, PartNumber: 2, CopySource: `${bucket}/source.bin`, CopySourceRange: `bytes=${5 * MiB}-${source.length - 1}` }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'assembled.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'assembled.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(source)).toBe(true);
    const late = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'too-far.bin' }));
    const outside = await errorOf(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'too-far.bin', UploadId: late.UploadId, PartNumber: 1, CopySource: `${bucket}/source.bin`, CopySourceRange: `bytes=0-${source.length}` })));
    expect(outside.name).toBe('InvalidRange');
  });

  it('computes composite and full-object checksums as S3 does', async () => {
    const a = randomBytes(5 * MiB);
    const b = randomBytes(1000);
    for (const type of ['COMPOSITE', 'FULL_OBJECT'] as const) {
      const key = `sum-${type}`;
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32', ChecksumType: type }));
      const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: a, ChecksumAlgorithm: 'CRC32' }));
      const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: b, ChecksumAlgorithm: 'CRC32' }));
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, ChecksumType: type, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ChecksumCRC32: p1.ChecksumCRC32 }, { PartNumber: 2, ETag: p2.ETag, ChecksumCRC32: p2.ChecksumCRC32 }] } }));
      const { crc32 } = await import('node:zlib');
      const crc = (buf: Buffer, init = 0) => { const out = Buffer.alloc(4); out.writeUInt32BE(crc32(buf, init) >>> 0); return out; };
      if (type === 'COMPOSITE') {
        const expected = crc(Buffer.concat([crc(a), crc(b)])).toString('base64') + '-2';
        expect(done.ChecksumCRC32).toBe(expected);
      } else {
        expect(done.ChecksumCRC32).toBe(crc(Buffer.concat([a, b])).toString('base64'));
      }
    }
  });

  it('refuses a second writer with If-None-Match: *', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'race', Body: `writer ${i}`, IfNoneMatch: '*' }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as S3ServiceException).$metadata.httpStatusCode).toBe(412);
  });
});
