/** Malformed and hostile requests each get the right S3 error, and the server keeps serving. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'hostile';

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ok.txt', Body: 'fine' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];

async function expectServing(): Promise<void> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ok.txt' }));
  expect(await got.Body!.transformToString()).toBe('fine');
}

describe('authentication failures', () => {
  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}/ok.txt`, secret: 'not-the-secret' });
    const res = await rawRequest(server, toHttp(parts));
    expect(res.status).toBe(403);
    expect(code(res.body)).toBe('SignatureDoesNotMatch');
  });

  it('refuses a tampered request', async () => {
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}/ok.txt` });
    const res = await rawRequest(server, toHttp({ ...parts, path: `/${bucket}/other.txt` }));
    expect(res.status).toBe(403);
    expect(code(res.body)).toBe('SignatureDoesNotMatch');
  });

  it('refuses an unknown access key', async () => {
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}/ok.txt` });
    parts.headers.authorization = parts.headers.authorization!.replace(server.accessKeyId, 'AKIANOSUCHKEY0000000');
    const res = await rawRequest(server, toHttp(parts));
    expect(res.status).toBe(403);
    expect(code(res.body)).toBe('InvalidAccessKeyId');
  });

  it('refuses a clock more than 15 minutes off', async () => {
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}/ok.txt`, date: new Date(Date.now() - 20 * 60_000) });
    const res = await rawRequest(server, toHttp(parts));
    expect(res.status).toBe(403);
    expect(code(res.body)).toBe('RequestTimeTooSkewed');
  });

  it('refuses a garbled Authorization header', async () => {
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}/ok.txt` });
    parts.headers.authorization = 'AWS4-HMAC-SHA256 Credential=garbage';
    const res = await rawRequest(server, toHttp(parts));
    expect([400, 403]).toContain(res.status);
    expect(code(res.body)).toMatch(/AuthorizationHeaderMalformed|InvalidArgument|AccessDenied|SignatureDoesNotMatch/);
  });

  it('refuses a body that does not match its signed hash', async () => {
    const parts = await signRequest(server, { method: 'PUT', path: `/${bucket}/tampered.txt`, body: 'original body' });
    const res = await rawRequest(server, toHttp({ ...parts, body: 'evil body!!!!' }));
    expect(res.status).toBe(400);
    expect(code(res.body)).toBe('XAmzContentSHA256Mismatch');
    const after = await rawRequest(server, `GET /${bucket}/tampered.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(after.status).toBe(403);
  });

  it('refuses a wrong Content-MD5 with BadDigest and stores nothing', async () => {
    const parts = await signRequest(server, { method: 'PUT', path: `/${bucket}/md5.txt`, body: 'hello', headers: { 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' } });
    const res = await rawRequest(server, toHttp(parts));
    expect(res.status).toBe(400);
    expect(code(res.body)).toBe('BadDigest');
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'md5.txt' }))).rejects.toThrow();
  });
});

describe('broken bodies and framing', () => {
  it('answers a truncated body with IncompleteBody and commits nothing', async () => {
    const parts = await signRequest(server, { method: 'PUT', path: `/${bucket}/short.bin`, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    const http = toHttp({ ...parts, headers: { ...parts.headers, 'content-length': '100000' }, body: 'only a few bytes' });
    const res = await rawRequest(server, http, 3000).catch(() => undefined);
    if (res && res.status) expect([400]).toContain(res.status);
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'short.bin' }))).rejects.toThrow();
    await expectServing();
  });

  it('answers a truncated aws-chunked body with an error and commits nothing', async () => {
    const parts = await signRequest(server, {
      method: 'PUT',
      path: `/${bucket}/chunked.bin`,
      headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '10000', 'x-amz-trailer': 'x-amz-checksum-crc32' },
    });
    const body = `2710\r\n${'a'.repeat(500)}`;
    const res = await rawRequest(server, toHttp({ ...parts, headers: { ...parts.headers, 'transfer-encoding': 'chunked' }, body: `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` }), 5000).catch(() => undefined);
    if (res && res.status) expect(res.status).toBe(400);
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'chunked.bin' }))).rejects.toThrow();
    await expectServing();
  });

  it('answers oversized headers with an S3 error', async () => {
    const res = await rawRequest(server, `GET /${bucket}/ok.txt HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(code(res.body)).toBe('RequestHeaderSectionTooLarge');
    await expectServing();
  });

  it('answers broken percent-encoding with InvalidURI', async () => {
    const res = await rawRequest(server, `GET /${bucket}/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(code(res.body)).toBe('InvalidURI');
  });

  it('answers invalid XML with MalformedXML', async () => {
    const parts = await signRequest(server, { method: 'PUT', path: '/new-bucket-xml', body: '<CreateBucketConfiguration><LocationConstraint>us-' });
    const res = await rawRequest(server, toHttp(parts));
    expect(res.status).toBe(400);
    expect(code(res.body)).toBe('MalformedXML');
    const del = await signRequest(server, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: '<Delete><Object><Key>a</Key></Object', headers: { 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' } });
    const delRes = await rawRequest(server, toHttp(del));
    expect(delRes.status).toBe(400);
    expect(code(delRes.body)).toMatch(/MalformedXML|BadDigest/);
  });

  it('answers an operation not built yet with NotImplemented', async () => {
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}`, query: { analytics: '' } });
    const res = await rawRequest(server, toHttp(parts));
    expect(res.status).toBe(501);
    expect(code(res.body)).toBe('NotImplemented');
  });
});

describe('path traversal', () => {
  it('keeps hostile keys inside the data folder', async () => {
    const hostile = ['../../../../tmp/offload-escape', '..%2F..%2Fescape', '/etc/passwd', 'a/./b/../../../c', '\u0000nul'];
    for (const key of hostile) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `k=${key}` }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await got.Body!.transformToString()).toBe(`k=${key}`);
    }
    expect(existsSync('/tmp/offload-escape')).toBe(false);
    expect(readdirSync(dirname(server.dataDir)).filter((n) => n === 'escape')).toEqual([]);
    // A raw, unnormalised path reaches the key literally, not the file system.
    const res = await rawRequest(server, `GET /${bucket}/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.body).not.toContain('root:');
    expect([403, 404]).toContain(res.status);
    expect(existsSync(join(server.dataDir, 'etc'))).toBe(false);
    await expectServing();
  });
});
