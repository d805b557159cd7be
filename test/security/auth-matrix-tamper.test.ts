/**
 * The auth matrix, part 2: a correctly signed request, bent after signing. Every part a signature
 * covers (method, path, query, each signed header, the payload hash and the body it promises)
 * is changed in turn; each change is refused with the exact status and Code, nothing is written
 * or deleted, and the server still answers.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { errorOf, presignV2, presignV4, send, serverAlive, signV2, signV4, type WireRequest } from './_sign.js';

let server: TestServer;
let s3: S3Client;
const OBJECT = '/tamper/obj.txt';

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'tamper' }));
  await s3.send(new PutObjectCommand({ Bucket: 'tamper', Key: 'obj.txt', Body: 'private body' }));
  await s3.send(new PutObjectCommand({ Bucket: 'tamper', Key: 'other.txt', Body: 'other body' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

async function exists(key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: 'tamper', Key: key })).then(() => true, () => false);
}

type Bend = (req: WireRequest) => WireRequest;
const withHeader = (name: string, value: string): Bend => (req) => ({ ...req, headers: { ...req.headers, [name]: value } });
const withoutHeader = (name: string): Bend => (req) => ({ ...req, headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.toLowerCase() !== name)) });
const withTarget = (from: string | RegExp, to: string): Bend => (req) => ({ ...req, target: req.target.replace(from, to) });
const withQuery = (extra: string): Bend => (req) => ({ ...req, target: req.target + (req.target.includes('?') ? '&' : '?') + extra });
const withMethod = (method: string): Bend => (req) => ({ ...req, method });
const otherHost = () => withHeader('host', `localhost:${server.port}`);

/** The bent request is refused with that status and Code; the objects are as they were. */
async function expectRefused(req: WireRequest, status: number, code: string, written?: string): Promise<void> {
  const res = await send(server, req);
  expect({ status: res.status, code: errorOf(res).code }, res.body).toEqual({ status, code });
  expect(res.body).not.toMatch(/private body|other body/);
  expect(await exists('obj.txt')).toBe(true);
  if (written !== undefined) expect(await exists(written)).toBe(false);
  expect(await serverAlive(server)).toBe(true);
}

const READ_BENDS: [string, () => Bend][] = [
  ['the path', () => withTarget('/tamper/obj.txt', '/tamper/other.txt')],
  ['the query (a parameter added)', () => withQuery('response-content-type=text%2Fhtml')],
  ['the method (GET to DELETE)', () => withMethod('DELETE')],
  ['the host', otherHost],
];

describe('header SigV4, bent', () => {
  it('the unbent request reads the object', async () => {
    expect((await send(server, await signV4(server, { method: 'GET', path: OBJECT }))).status).toBe(200);
  });

  it.each(READ_BENDS)('%s: SignatureDoesNotMatch', async (_what, bend) => {
    await expectRefused(bend()(await signV4(server, { method: 'GET', path: OBJECT })), 403, 'SignatureDoesNotMatch');
  });

  const signedPut = () => signV4(server, {
    method: 'PUT',
    path: '/tamper/put.txt',
    headers: { 'content-type': 'text/plain', 'x-amz-acl': 'private', 'x-amz-meta-a': 'one', 'x-amz-tagging': 'k=v' },
    body: 'signed body',
  });

  it('the unbent PUT writes (then the object is removed again)', async () => {
    const res = await send(server, await signedPut());
    expect(res.status, res.body).toBe(200);
    const del = await send(server, await signV4(server, { method: 'DELETE', path: '/tamper/put.txt' }));
    expect(del.status).toBe(204);
  });

  it.each([
    ['content-type', 'text/html'], ['x-amz-acl', 'public-read'], ['x-amz-meta-a', 'two'], ['x-amz-tagging', 'k=w'],
    ['x-amz-date', new Date(Date.now() - 60_000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')],
  ])('a signed header changed (%s): SignatureDoesNotMatch', async (name, value) => {
    await expectRefused(withHeader(name, value)(await signedPut()), 403, 'SignatureDoesNotMatch', 'put.txt');
  });

  it.each(['content-type', 'x-amz-acl', 'x-amz-meta-a', 'x-amz-tagging'])('a signed header dropped (%s): SignatureDoesNotMatch', async (name) => {
    await expectRefused(withoutHeader(name)(await signedPut()), 403, 'SignatureDoesNotMatch', 'put.txt');
  });

  it('the payload hash swapped for that of another body: SignatureDoesNotMatch', async () => {
    const req = await signedPut();
    const bent = { ...withHeader('x-amz-content-sha256', createHash('sha256').update('other body!').digest('hex'))(req), body: 'other body!' };
    await expectRefused(bent, 403, 'SignatureDoesNotMatch', 'put.txt');
  });

  it('the body changed under a signed payload hash: XAmzContentSHA256Mismatch', async () => {
    await expectRefused({ ...(await signedPut()), body: 'SIGNED BODY' }, 400, 'XAmzContentSHA256Mismatch', 'put.txt');
  });

  it('the signature itself changed: SignatureDoesNotMatch', async () => {
    const req = await signedPut();
    const authorization = req.headers.authorization!.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    await expectRefused(withHeader('authorization', authorization)(req), 403, 'SignatureDoesNotMatch', 'put.txt');
  });
});

describe('presigned SigV4, bent', () => {
  const url = () => presignV4(server, { method: 'GET', path: OBJECT });

  it.each([
    ...READ_BENDS,
    ['X-Amz-Expires (lengthened)', () => withTarget(/X-Amz-Expires=\d+/, 'X-Amz-Expires=3600')],
    ['X-Amz-Date (moved by a second)', () => (req: WireRequest) => ({ ...req, target: req.target.replace(/(X-Amz-Date=\d{8}T\d{5})(\d)/, (_m, head: string, s: string) => `${head}${s === '0' ? '1' : '0'}`) })],
    ['X-Amz-Signature', () => (req: WireRequest) => ({ ...req, target: req.target.replace(/X-Amz-Signature=(.)/, (_m, c: string) => `X-Amz-Signature=${c === 'f' ? 'e' : 'f'}`) })],
  ] as [string, () => Bend][])('%s: SignatureDoesNotMatch', async (_what, bend) => {
    const req = await url();
    const bent = bend()(req);
    expect(bent).not.toEqual(req);
    await expectRefused(bent, 403, 'SignatureDoesNotMatch');
  });

  const signedAclPut = () => presignV4(server, { method: 'PUT', path: '/tamper/presigned.txt', headers: { 'x-amz-acl': 'private' } });

  it('a signed header changed, or dropped along with its name in X-Amz-SignedHeaders: SignatureDoesNotMatch', async () => {
    await expectRefused({ ...withHeader('x-amz-acl', 'public-read')(await signedAclPut()), body: 'x' }, 403, 'SignatureDoesNotMatch', 'presigned.txt');
    await expectRefused({ ...withoutHeader('x-amz-acl')(await signedAclPut()), body: 'x' }, 403, 'SignatureDoesNotMatch', 'presigned.txt');
    const unlisted = withTarget('X-Amz-SignedHeaders=host%3Bx-amz-acl', 'X-Amz-SignedHeaders=host')(withoutHeader('x-amz-acl')(await signedAclPut()));
    await expectRefused({ ...unlisted, body: 'x' }, 403, 'SignatureDoesNotMatch', 'presigned.txt');
  });

  it('the body is not covered (UNSIGNED-PAYLOAD): any body goes to the key the URL names', async () => {
    const res = await send(server, { ...(await presignV4(server, { method: 'PUT', path: '/tamper/any-body.txt' })), body: 'whatever the holder sends' });
    expect(res.status).toBe(200);
  });
});

describe('SigV2, bent', () => {
  const put = () => ({ method: 'PUT', path: '/tamper/v2.txt', headers: { 'content-type': 'text/plain', 'content-md5': createHash('md5').update('v2 body').digest('base64'), 'x-amz-meta-a': 'one' } });

  it('the unbent header-signed PUT writes (then the object is removed again)', async () => {
    const res = await send(server, signV2(server, { ...put(), body: 'v2 body' }));
    expect(res.status, res.body).toBe(200);
    expect((await send(server, signV2(server, { method: 'DELETE', path: '/tamper/v2.txt' }))).status).toBe(204);
  });

  it.each([
    ['the path', () => withTarget('/tamper/v2.txt', '/tamper/v2-other.txt')],
    ['the method (PUT to DELETE)', () => withMethod('DELETE')],
    ['a sub-resource added (?acl)', () => withQuery('acl')],
    ['content-type', () => withHeader('content-type', 'text/html')],
    ['content-md5', () => withHeader('content-md5', createHash('md5').update('v2 BODY').digest('base64'))],
    ['a signed x-amz-* header', () => withHeader('x-amz-meta-a', 'two')],
    ['date', () => withHeader('date', new Date(Date.now() - 60_000).toUTCString())],
  ] as [string, () => Bend][])('header form, %s: SignatureDoesNotMatch', async (_what, bend) => {
    const req = signV2(server, { ...put(), body: 'v2 body' });
    const bent = bend()(req);
    await expectRefused(bent.headers['content-md5'] === req.headers['content-md5'] ? bent : { ...bent, body: 'v2 BODY' }, 403, 'SignatureDoesNotMatch', 'v2.txt');
  });

  it.each([
    ['the path', () => withTarget('/tamper/obj.txt', '/tamper/other.txt')],
    ['the method (GET to DELETE)', () => withMethod('DELETE')],
    ['a sub-resource added (?acl)', () => withQuery('acl')],
    ['Expires (lengthened)', () => withTarget(/Expires=(\d+)/, 'Expires=4102444800')],
  ] as [string, () => Bend][])('query form, %s: SignatureDoesNotMatch', async (_what, bend) => {
    await expectRefused(bend()(presignV2(server, { method: 'GET', path: OBJECT })), 403, 'SignatureDoesNotMatch');
  });
});
