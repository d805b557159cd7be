/**
 * Body framing and size limits: plain chunked PUTs need a length (411), 5 GiB is the most a
 * single PUT or part may declare or stream, aws-chunked bodies are checked as they arrive, and
 * headers that frame or authenticate a request may not be repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { code, expectAlive, expectError, expectNoStrayFiles, signed, startHarness, type Harness } from './input-harness.js';

let h: Harness;
const bucket = 'bodies';
const FIVE_GIB = 5 * 1024 ** 3;

beforeAll(async () => {
  h = await startHarness();
  await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await h?.stop();
});

/** Signs the head of a PUT, then sends exactly `body` after it (the head says what framing it claims). */
async function put(path: string, headers: Record<string, string>, body: string | Buffer, query?: Record<string, string>) {
  const parts = await signRequest(h.server, { method: 'PUT', path, query, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers } });
  return rawRequest(h.server, toHttp({ ...parts, body }), 10_000);
}

const awsChunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
const httpChunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;

async function expectAbsent(key: string): Promise<void> {
  expect((await signed(h, 'GET', `/${bucket}/${key}`)).status).toBe(404);
}

describe('lengths and limits', () => {
  it('Transfer-Encoding: chunked without Content-Length (not aws-chunked) is 411 MissingContentLength', async () => {
    const res = await put(`/${bucket}/te.bin`, { 'transfer-encoding': 'chunked' }, `${httpChunk('a'.repeat(1000))}0\r\n\r\n`);
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 411, code: 'MissingContentLength' });
    await expectAbsent('te.bin');
    await expectNoStrayFiles(h);
  });

  it('a Content-Length over 5 GiB is 400 EntityTooLarge before any byte is read', async () => {
    const res = await put(`/${bucket}/huge.bin`, { 'content-length': String(FIVE_GIB + 1) }, 'just the start');
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'EntityTooLarge' });
    await expectNoStrayFiles(h);
  });

  it('an x-amz-decoded-content-length over 5 GiB is 400 EntityTooLarge', async () => {
    const res = await put(`/${bucket}/huge.bin`, { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(FIVE_GIB + 1), 'transfer-encoding': 'chunked' }, httpChunk(awsChunk('abc')));
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'EntityTooLarge' });
  });

  it('UploadPart over 5 GiB is 400 EntityTooLarge', async () => {
    const uploadId = (await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }))).UploadId!;
    const res = await put(`/${bucket}/mp.bin`, { 'content-length': String(FIVE_GIB + 1) }, 'x', { uploadId, partNumber: '1' });
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'EntityTooLarge' });
  });

  it('an aws-chunked body streaming past its decoded length is refused while it streams', async () => {
    // The body never ends: only a check made as the bytes arrive can answer.
    const body = httpChunk(awsChunk('a'.repeat(64 * 1024)) + awsChunk('b'.repeat(64 * 1024)));
    const res = await put(`/${bucket}/over.bin`, { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '10', 'transfer-encoding': 'chunked' }, body);
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'IncompleteBody' });
    await expectAbsent('over.bin');
    await expectNoStrayFiles(h);
  });

  it('metadata over 2 KB is 400 MetadataTooLarge', async () => {
    const res = await put(`/${bucket}/meta.bin`, { 'x-amz-meta-big': 'm'.repeat(2100) }, 'x');
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'MetadataTooLarge' });
  });
});

describe('bad aws-chunked encodings', () => {
  const chunked = { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' };
  it.each([
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['data longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['no final chunk', '5\r\nhello\r\n'],
    ['a 17-digit size', '00000000000000005\r\nhello\r\n0\r\n\r\n'],
    ['a header line past 4 KB', `5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`],
    ['data after the end', '5\r\nhello\r\n0\r\n\r\ntrailing garbage\r\n'],
  ])('%s is 400 IncompleteBody and stores nothing', async (_name, body) => {
    const res = await put(`/${bucket}/bad-chunk.bin`, { ...chunked, 'content-length': String(Buffer.byteLength(body)) }, body);
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'IncompleteBody' });
    await expectAbsent('bad-chunk.bin');
    await expectNoStrayFiles(h);
  });

  it('a wrong chunk signature is 403 SignatureDoesNotMatch', async () => {
    const body = `5;chunk-signature=${'0'.repeat(64)}\r\nhello\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`;
    const res = await put(`/${bucket}/bad-sig.bin`, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'content-length': String(body.length) }, body);
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    await expectAbsent('bad-sig.bin');
    await expectNoStrayFiles(h);
  });
});

describe('repeated and oversized headers', () => {
  async function withRepeat(name: string, extra: string): Promise<{ status: number; body: string }> {
    const parts = await signRequest(h.server, { method: 'PUT', path: `/${bucket}/dup.txt`, body: 'hello' });
    const http = toHttp(parts).toString('latin1').replace('\r\n\r\n', `\r\n${name}: ${extra}\r\n\r\n`);
    return rawRequest(h.server, Buffer.from(http, 'latin1'));
  }

  it('a second Authorization header is 400 InvalidArgument', async () => {
    await expectError(withRepeat('Authorization', 'AWS4-HMAC-SHA256 Credential=other/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00'), 400, 'InvalidArgument');
  });

  it('a second x-amz-content-sha256 is 400 InvalidArgument', async () => {
    await expectError(withRepeat('x-amz-content-sha256', 'UNSIGNED-PAYLOAD'), 400, 'InvalidArgument');
  });

  it('a second x-amz-date is 400 InvalidArgument', async () => {
    await expectError(withRepeat('X-Amz-Date', '20200101T000000Z'), 400, 'InvalidArgument');
  });

  it('a second Content-Length is refused by the HTTP parser as 400 InvalidRequest', async () => {
    await expectError(withRepeat('Content-Length', '5'), 400, 'InvalidRequest');
    await expectError(withRepeat('Content-Length', '50'), 400, 'InvalidRequest');
  });

  it('a header section over 16 KB in many small headers is 400 RequestHeaderSectionTooLarge', async () => {
    const many = Array.from({ length: 1200 }, (_, i) => `x-h${i}: ${'v'.repeat(10)}`).join('\r\n');
    const res = await rawRequest(h.server, `GET /${bucket}/x HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`);
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'RequestHeaderSectionTooLarge' });
    await expectAbsent('dup.txt');
    await expectAlive(h, bucket);
    await expectNoStrayFiles(h);
  });
});
