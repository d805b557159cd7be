/**
 * The auth matrix, part 1: who is asking and when. Anonymous, a wrong secret, an unknown key,
 * presigned URLs that expired, last too long or start in the future, header signatures from a
 * skewed clock, and SigV4 signatures that leave out host. Every case: exact status and Code,
 * nothing done, and the server still answering. (Tampering: auth-matrix-tamper; headers added
 * after signing: auth-matrix-unsigned.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { errorOf, presignV2, presignV4, presignV4Manual, send, serverAlive, signV2, signV4, type WireRequest } from './_sign.js';

let server: TestServer;
let s3: S3Client;
const OBJECT = '/matrix/obj.txt';
const NOT_SIGNED = 'There were headers present in the request which were not signed';
const WRONG_SECRET = { secretAccessKey: 'not-the-secret-0123456789' };
const UNKNOWN_KEY = { accessKeyId: 'OFLXUNKNOWNKEY000000', secretAccessKey: 'whatever-secret-0123456789' };
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'matrix' }));
  await s3.send(new PutObjectCommand({ Bucket: 'matrix', Key: 'obj.txt', Body: 'private body' }));
  for (const bucket of ['alpha', 'beta']) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret.txt', Body: `${bucket} secret` }));
  }
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

async function expectRefused(req: WireRequest, status: number, code: string, message?: string): Promise<void> {
  const res = await send(server, req);
  const err = errorOf(res);
  expect({ status: err.status, code: err.code }, res.body).toEqual({ status, code });
  if (message !== undefined) expect(err.message).toBe(message);
  expect(res.body).not.toContain('private body');
  expect(await serverAlive(server)).toBe(true);
}

const get = { method: 'GET', path: OBJECT };

describe('controls: each form, done right, reads the object', () => {
  it.each([
    ['presigned SigV4', () => presignV4(server, get)],
    ['header SigV4', () => signV4(server, get)],
    ['header SigV2', async () => signV2(server, get)],
    ['presigned SigV2', async () => presignV2(server, get)],
    ['presigned SigV4 lasting exactly 7 days', async () => presignV4Manual(server, get, { expiresIn: 604800 })],
  ])('%s', async (_form, make) => {
    const res = await send(server, await make());
    expect(res.status, res.body).toBe(200);
    expect(res.body).toBe('private body');
  });
});

describe('who is asking', () => {
  it('anonymous: a private object and a write are AccessDenied', async () => {
    await expectRefused({ method: 'GET', target: OBJECT, headers: { host: `127.0.0.1:${server.port}` } }, 403, 'AccessDenied');
    await expectRefused({ method: 'PUT', target: '/matrix/anon.txt', headers: { host: `127.0.0.1:${server.port}` }, body: 'x' }, 403, 'AccessDenied');
  });

  it('anonymous requests may carry x-amz-* headers: they grant nothing, the access check decides', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'matrix', Key: 'public.txt', Body: 'public body', ACL: 'public-read' }));
    const res = await send(server, { method: 'GET', target: '/matrix/public.txt', headers: { host: `127.0.0.1:${server.port}`, 'x-amz-request-payer': 'requester', 'x-amz-meta-x': 'y' } });
    expect(res.status).toBe(200);
    await expectRefused({ method: 'GET', target: OBJECT, headers: { host: `127.0.0.1:${server.port}`, 'x-amz-acl': 'public-read' } }, 403, 'AccessDenied');
  });

  it.each([
    ['presigned SigV4', () => presignV4(server, get, { keys: WRONG_SECRET })],
    ['header SigV4', () => signV4(server, get, { keys: WRONG_SECRET })],
    ['header SigV2', async () => signV2(server, get, { keys: WRONG_SECRET })],
    ['presigned SigV2', async () => presignV2(server, get, { keys: WRONG_SECRET })],
  ])('a wrong secret (%s) is SignatureDoesNotMatch', async (_form, make) => {
    await expectRefused(await make(), 403, 'SignatureDoesNotMatch');
  });

  it.each([
    ['presigned SigV4', () => presignV4(server, get, { keys: UNKNOWN_KEY })],
    ['header SigV4', () => signV4(server, get, { keys: UNKNOWN_KEY })],
    ['header SigV2', async () => signV2(server, get, { keys: UNKNOWN_KEY })],
    ['presigned SigV2', async () => presignV2(server, get, { keys: UNKNOWN_KEY })],
  ])('an unknown access key (%s) is InvalidAccessKeyId', async (_form, make) => {
    await expectRefused(await make(), 403, 'InvalidAccessKeyId');
  });
});

describe('when', () => {
  it('an expired presigned URL is AccessDenied (SigV4 and SigV2)', async () => {
    await expectRefused(await presignV4(server, get, { date: minutes(-60), expiresIn: 60 }), 403, 'AccessDenied', 'Request has expired');
    await expectRefused(presignV2(server, get, { expiresIn: -60 }), 403, 'AccessDenied', 'Request has expired');
  });

  it('a presigned SigV4 URL lasting over 7 days is AuthorizationQueryParametersError', async () => {
    await expectRefused(presignV4Manual(server, get, { expiresIn: 604801 }), 400, 'AuthorizationQueryParametersError');
  });

  it('a presigned SigV4 URL dated in the future is AccessDenied', async () => {
    await expectRefused(await presignV4(server, get, { date: minutes(60) }), 403, 'AccessDenied', 'Request is not valid yet');
  });

  it.each([-20, 20])('a header signature from a clock %i minutes off is RequestTimeTooSkewed (SigV4 and SigV2)', async (offset) => {
    await expectRefused(await signV4(server, get, { date: minutes(offset) }), 403, 'RequestTimeTooSkewed');
    await expectRefused(signV2(server, get, { date: minutes(offset) }), 403, 'RequestTimeTooSkewed');
  });

  it('a header signature from a clock 5 minutes off is fine', async () => {
    expect((await send(server, await signV4(server, get, { date: minutes(-5) }))).status).toBe(200);
    expect((await send(server, signV2(server, get, { date: minutes(5) }))).status).toBe(200);
  });
});

describe('SigV4 must sign host', () => {
  const vhost = (bucket: string) => `${bucket}.localhost:${server.port}`;

  it('refuses a presigned URL whose SignedHeaders leave out host, so it cannot be retargeted at another bucket', async () => {
    // Signed for alpha's secret.txt, virtual-hosted, with only user-agent signed...
    const url = presignV4Manual(server, { method: 'GET', path: '/secret.txt', headers: { host: vhost('alpha'), 'user-agent': 'ua' } }, { expiresIn: 300, signedHeaders: ['user-agent'] });
    // ...then replayed with beta's host.
    const replay = { ...url, headers: { host: vhost('beta'), 'user-agent': 'ua' } };
    const res = await send(server, replay);
    expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: 'host' });
    expect(res.body).not.toContain('beta secret');
    await expectRefused(url, 403, 'AccessDenied', NOT_SIGNED);
    expect(await serverAlive(server)).toBe(true);
  });

  it('refuses an empty X-Amz-SignedHeaders, and one from the SDK signer told not to sign host', async () => {
    const empty = presignV4Manual(server, get, { expiresIn: 300, signedHeaders: [] });
    await expectRefused({ ...empty, target: empty.target.replace(/X-Amz-SignedHeaders=[^&]*/, 'X-Amz-SignedHeaders=') }, 403, 'AccessDenied', NOT_SIGNED);
    await expectRefused(await presignV4(server, { ...get, headers: { 'user-agent': 'ua' } }, { withoutHost: true, signableHeaders: ['user-agent'] }), 403, 'AccessDenied', NOT_SIGNED);
  });

  it('refuses a header signature that leaves out host', async () => {
    const req = await signV4(server, get, { unsignableHeaders: ['host'] });
    expect(req.headers.authorization).not.toMatch(/SignedHeaders=[^,]*host/);
    const res = await send(server, req);
    expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: 'host' });
    expect(await serverAlive(server)).toBe(true);
  });

  it('accepts a header signature that leaves out x-amz-content-sha256 and x-amz-date: the signature binds them anyway', async () => {
    const req = await signV4(server, get, { unsignableHeaders: ['x-amz-content-sha256', 'x-amz-date'] });
    expect(req.headers.authorization).toContain('SignedHeaders=host,');
    expect((await send(server, req)).status).toBe(200);
  });
});
