/** Hostile keys and bucket names, and ranges: each stored literally or refused exactly, nothing escapes the data folder. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { code, expectAlive, expectError, expectNoStrayFiles, signed, startHarness, type Harness } from './input-harness.js';

let h: Harness;
const bucket = 'names';

beforeAll(async () => {
  h = await startHarness();
  await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ten.txt', Body: '0123456789' }));
});
afterAll(async () => {
  await h?.stop();
});

/** A signed request whose path is sent exactly as given (already percent-encoded). */
async function rawPath(method: string, path: string, body = '') {
  const parts = await signRequest(h.server, { method, path, body });
  parts.headers.connection = 'close';
  return rawRequest(h.server, toHttp(parts));
}

describe('keys', () => {
  it.each([
    ['%2e%2e/%2e%2e/%2e%2e/etc/passwd', '../../../etc/passwd'],
    ['..', '..'],
    ['.', '.'],
    ['a/../../b', 'a/../../b'],
    ['%2E%2E%2F%2E%2E%2Fescape', '../../escape'],
    ['nul%00byte', 'nul\u0000byte'],
    ['cr%0Dlf%0Akey', 'cr\rlf\nkey'],
    ['tab%09and%7Fdel', 'tab\tand\u007fdel'],
    ['back%5C..%5C..%5Cwin', 'back\\..\\..\\win'],
  ])('%s is stored as the literal key %j, inside the data folder', async (encoded, literal) => {
    const put = await rawPath('PUT', `/${bucket}/${encoded}`, `k=${literal}`);
    expect(put.status).toBe(200);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: literal }));
    expect(await got.Body!.transformToString()).toBe(`k=${literal}`);
    const listed = await h.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: literal }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(literal);
    expect(existsSync(join(h.server.dataDir, '..', 'escape'))).toBe(false);
    expect(readdirSync(dirname(h.server.dataDir)).filter((n) => n === 'escape' || n === 'etc')).toEqual([]);
  });

  it('a key of 1025 bytes is 400 KeyTooLongError on PUT, copy, multipart and POST; 1024 is fine', async () => {
    const long = 'k'.repeat(1025);
    await expectError(signed(h, 'PUT', `/${bucket}/${long}`, { body: 'x' }), 400, 'KeyTooLongError');
    await expectError(signed(h, 'PUT', `/${bucket}/${long}`, { headers: { 'x-amz-copy-source': `/${bucket}/ten.txt` } }), 400, 'KeyTooLongError');
    await expectError(signed(h, 'POST', `/${bucket}/${long}`, { query: { uploads: '' } }), 400, 'KeyTooLongError');
    // Multi-byte characters count as bytes: 342 x 3 bytes = 1026.
    await expectError(signed(h, 'PUT', `/${bucket}/${encodeURIComponent('€'.repeat(342))}`, { body: 'x' }), 400, 'KeyTooLongError');
    await h.s3.send(new CreateBucketCommand({ Bucket: 'names-open', ACL: 'public-read-write' }));
    const form = new FormData();
    form.append('key', long);
    form.append('file', new Blob(['x']), 'f');
    const res = await fetch(`${h.server.endpoint}/names-open`, { method: 'POST', body: form });
    expect({ status: res.status, code: code(await res.text()) }).toEqual({ status: 400, code: 'KeyTooLongError' });
    await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1024), Body: 'max' }));
    await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k'.repeat(1024) }));
    await expectNoStrayFiles(h);
  });

  it('a broken percent-encoding in the key is 400 InvalidURI', async () => {
    await expectError(rawPath('PUT', `/${bucket}/bad%zzkey`, 'x'), 400, 'InvalidURI');
    await expectError(rawPath('PUT', `/${bucket}/bad%E0%A4key`, 'x'), 400, 'InvalidURI');
  });
});

describe('bucket names', () => {
  it.each(['ab', 'Upper-Case', 'under_score', '-leading', 'trailing-', 'a..b', 'a.-b', '192.168.1.1', 'xn--punycode', 'sthree-x', 'x-s3alias', 'b'.repeat(64), '%2e%2e', 'sp%20ace', 'nul%00x'])('%s is 400 InvalidBucketName', async (name) => {
    await expectError(rawPath('PUT', `/${name}`), 400, 'InvalidBucketName');
  });

  it('the server namespace /_offload/ is not a bucket', async () => {
    const res = await rawPath('PUT', '/_offload');
    expect({ status: res.status, code: code(res.body) }).toEqual({ status: 400, code: 'InvalidBucketName' });
    await expectAlive(h, bucket);
  });
});

describe('ranges', () => {
  const get = (range: string, method = 'GET') => signed(h, method, `/${bucket}/ten.txt`, { headers: { range } });

  it.each(['bytes=abc', 'bytes=5-1', 'items=0-1', 'bytes=0-1,3-4', 'bytes=--1', 'bytes=1-2-3', 'bytes='])('%j is ignored: 200 with the whole object', async (range) => {
    const res = await get(range);
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: '0123456789' });
  });

  it.each(['bytes=10-', 'bytes=100-200', 'bytes=-0', 'bytes=99999999999999999999-'])('%j is 416 InvalidRange', async (range) => {
    await expectError(get(range), 416, 'InvalidRange');
  });

  it('an end past the object, or a 20-digit end, is clamped: 206', async () => {
    for (const range of ['bytes=8-99', 'bytes=8-99999999999999999999']) {
      const res = await get(range);
      expect({ status: res.status, body: res.body, range: res.headers['content-range'] }).toEqual({ status: 206, body: '89', range: 'bytes 8-9/10' });
    }
    const suffix = await get('bytes=-3');
    expect({ status: suffix.status, body: suffix.body }).toEqual({ status: 206, body: '789' });
  });

  it('a bad x-amz-copy-source-range on UploadPartCopy is 400 InvalidArgument', async () => {
    const uploadId = (await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'cp.bin' }))).UploadId!;
    for (const range of ['bytes=abc', 'bytes=5-1', 'bytes=0-', 'bytes=-3']) {
      await expectError(signed(h, 'PUT', `/${bucket}/cp.bin`, { query: { uploadId, partNumber: '1' }, headers: { 'x-amz-copy-source': `/${bucket}/ten.txt`, 'x-amz-copy-source-range': range } }), 400, 'InvalidArgument');
    }
    await expectError(signed(h, 'PUT', `/${bucket}/cp.bin`, { query: { uploadId, partNumber: '1' }, headers: { 'x-amz-copy-source': `/${bucket}/ten.txt`, 'x-amz-copy-source-range': 'bytes=5-10' } }), 416, 'InvalidRange');
    await expectAlive(h, bucket);
    await expectNoStrayFiles(h);
  });
});
