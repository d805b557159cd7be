/**
 * The admin API (`/_offload/`) answers errors as the S3 API does: an S3 XML error document with
 * the code and status S3 would use, through the one front door, and one root check for all of it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp, type RawResponse } from '../helpers/raw.js';
import { xmlErrorOf } from '../helpers/errors.js';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'adm' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const signed = async (method: string, path: string, opts: { query?: Record<string, string>; body?: string; secret?: string } = {}): Promise<RawResponse> =>
  rawRequest(server, toHttp(await signRequest(server, { method, path, ...opts })));
const unsigned = (method: string, path: string): Promise<RawResponse> =>
  rawRequest(server, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);

it('refuses unsigned and non-root calls with AccessDenied, on every admin endpoint', async () => {
  for (const path of ['/_offload/stats/adm', '/_offload/metrics', '/_offload/buckets/adm/cache-rules']) {
    const res = await unsigned('GET', path);
    expect(xmlErrorOf(res), path).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(res.headers['content-type'], path).toBe('application/xml');
    expect(res.headers['x-amz-request-id'], path).toMatch(/^[0-9A-F]{16}$/);
  }
  expect(xmlErrorOf(await signed('GET', '/_offload/stats/adm', { secret: 'not-the-secret' }))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
});

it('names a missing bucket, a bad argument and a wrong method as S3 does', async () => {
  expect(xmlErrorOf(await signed('GET', '/_offload/stats/no-such-bucket'))).toMatchObject({ status: 404, code: 'NoSuchBucket' });
  expect(xmlErrorOf(await signed('GET', '/_offload/buckets/no-such-bucket/cache-rules'))).toMatchObject({ status: 404, code: 'NoSuchBucket' });
  expect(xmlErrorOf(await signed('GET', '/_offload/stats/adm', { query: { top: '0' } }))).toMatchObject({ status: 400, code: 'InvalidArgument' });
  expect(xmlErrorOf(await signed('GET', '/_offload/stats/adm', { query: { since: 'forever' } }))).toMatchObject({ status: 400, code: 'InvalidArgument' });
  expect(xmlErrorOf(await signed('PUT', '/_offload/buckets/adm/cache-rules', { body: '{"rules": 7}' }))).toMatchObject({ status: 400, code: 'InvalidArgument' });
  const post = await signed('POST', '/_offload/stats/adm');
  expect(xmlErrorOf(post)).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
  expect(post.headers.allow).toBe('GET, HEAD');
  const patch = await signed('PATCH', '/_offload/buckets/adm/cache-rules');
  expect(xmlErrorOf(patch)).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
  expect(patch.headers.allow).toBe('GET, PUT, DELETE');
  expect(xmlErrorOf(await signed('GET', '/_offload/nothing-here'))).toMatchObject({ status: 404, code: 'XOffloadNoSuchAdminEndpoint' });
});

it('still answers health unsigned, and stays up', async () => {
  const health = await unsigned('GET', '/_offload/health');
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
  expect((await signed('GET', '/_offload/buckets/adm/cache-rules')).status).toBe(200);
});
