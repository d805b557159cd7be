/**
 * Headers added after signing. A signature covers only what it lists, so an `x-amz-*` header that
 * is present but not signed would let whoever holds a presigned URL (or replays a signed request)
 * change what the request does: turn an upload into a copy of another object, make it public,
 * grant, tag, redirect. Like AWS, SigV4 refuses such a request (AccessDenied, HeadersNotSigned);
 * SigV2 signs every x-amz-* header already, so an added one breaks the signature.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { anonymousStatus, errorOf, presignV2, presignV4, send, serverAlive, signV2, signV4 } from './_sign.js';

let server: TestServer;
let s3: S3Client;
const SLOT = '/privb/upload-slot.bin';
const NOT_SIGNED = 'There were headers present in the request which were not signed';

/** Each header that changes what a PUT does, with a value that would do harm if obeyed. */
const EXTRA_HEADERS: [string, string][] = [
  ['x-amz-copy-source', '/bobpriv/secret.txt'],
  ['x-amz-acl', 'public-read'],
  ['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
  ['x-amz-tagging', 'stolen=yes'],
  ['x-amz-website-redirect-location', 'https://evil.example/'],
  ['x-amz-meta-x', 'injected'],
  ['x-amz-server-side-encryption', 'AES256'],
];

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'privb' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'bobpriv' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bobpriv', Key: 'secret.txt', Body: 'top secret' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** Nothing was written, nothing became readable, and the server still answers. */
async function expectNoHarm(): Promise<void> {
  expect(await exists('privb', 'upload-slot.bin')).toBe(false);
  expect(await anonymousStatus(server, SLOT)).toBe(403);
  expect(await anonymousStatus(server, '/bobpriv/secret.txt')).toBe(403);
  expect(await serverAlive(server)).toBe(true);
}

describe('the copy-and-publish attack on a presigned PUT', () => {
  it('refuses x-amz-copy-source and x-amz-acl added to an SDK presigned PUT URL', async () => {
    const req = await presignV4(server, { method: 'PUT', path: SLOT });
    const res = await send(server, { ...req, headers: { ...req.headers, 'x-amz-copy-source': '/bobpriv/secret.txt', 'x-amz-acl': 'public-read' } });
    expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: 'x-amz-acl, x-amz-copy-source' });
    await expectNoHarm();
  });

  const python = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0 ? 'python3' : undefined;
  it.skipIf(missingPeer('python3 with boto3', python))('refuses them added to boto3 presigned PUT URLs, SigV2 (its default) and SigV4 (SignedHeaders=host)', async () => {
    const script = [
      'import boto3',
      'from botocore.config import Config',
      ...['s3', 's3v4'].map((version) => [
        `c = boto3.client('s3', endpoint_url='${server.endpoint}', region_name='${server.region}', aws_access_key_id='${server.accessKeyId}', aws_secret_access_key='${server.secretAccessKey}', config=Config(signature_version='${version}'))`,
        "print(c.generate_presigned_url('put_object', Params={'Bucket': 'privb', 'Key': 'upload-slot.bin'}, ExpiresIn=300))",
      ].join('\n')),
    ].join('\n');
    const out = spawnSync(python!, ['-c', script], { encoding: 'utf8', env: { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } });
    const [v2, v4] = out.stdout.trim().split('\n').map((line) => new URL(line));
    expect(v2!.searchParams.has('AWSAccessKeyId')).toBe(true);
    expect(v4!.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    for (const url of [v2!, v4!]) {
      const target = `${url.pathname}${url.search}`;
      const res = await send(server, { method: 'PUT', target, headers: { host: url.host, 'x-amz-copy-source': '/bobpriv/secret.txt', 'x-amz-acl': 'public-read' } });
      if (url === v2) expect(errorOf(res)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      else expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: 'x-amz-acl, x-amz-copy-source' });
      await expectNoHarm();
      // The URL itself still works, unchanged.
      const ok = await send(server, { method: 'PUT', target, headers: { host: url.host }, body: 'slot' });
      expect(ok.status, ok.body).toBe(200);
      await s3.send(new DeleteObjectCommand({ Bucket: 'privb', Key: 'upload-slot.bin' }));
    }
  });
  it.skipIf(missingPeer('python3 with boto3', python))('a boto3 presigned PUT that signed ACL and Content-Type works when both are sent, and only then', async () => {
    const script = [
      'import boto3',
      'from botocore.config import Config',
      `c = boto3.client('s3', endpoint_url='${server.endpoint}', region_name='${server.region}', aws_access_key_id='${server.accessKeyId}', aws_secret_access_key='${server.secretAccessKey}', config=Config(signature_version='s3v4'))`,
      "print(c.generate_presigned_url('put_object', Params={'Bucket': 'privb', 'Key': 'boto-public.png', 'ACL': 'public-read', 'ContentType': 'image/png'}, ExpiresIn=300))",
    ].join('\n');
    const out = spawnSync(python!, ['-c', script], { encoding: 'utf8', env: { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } });
    const url = new URL(out.stdout.trim());
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host;x-amz-acl');
    const target = `${url.pathname}${url.search}`;
    const withoutAcl = await send(server, { method: 'PUT', target, headers: { host: url.host, 'content-type': 'image/png' }, body: 'png' });
    expect(errorOf(withoutAcl)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    const otherType = await send(server, { method: 'PUT', target, headers: { host: url.host, 'content-type': 'text/html', 'x-amz-acl': 'public-read' }, body: '<script>' });
    expect(errorOf(otherType)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await exists('privb', 'boto-public.png')).toBe(false);
    const ok = await send(server, { method: 'PUT', target, headers: { host: url.host, 'content-type': 'image/png', 'x-amz-acl': 'public-read' }, body: 'png' });
    expect(ok.status, ok.body).toBe(200);
    expect(await anonymousStatus(server, '/privb/boto-public.png')).toBe(200);
  });
});

describe.each(EXTRA_HEADERS)('an unsigned %s', (name, value) => {
  const key = (form: string) => `fresh-${form}-${name}.bin`;
  it('is refused on a presigned SigV4 PUT', async () => {
    const req = await presignV4(server, { method: 'PUT', path: `/privb/${key('v4q')}` });
    const res = await send(server, { ...req, headers: { ...req.headers, [name]: value }, body: 'x' });
    expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: name });
    expect(await exists('privb', key('v4q'))).toBe(false);
    await expectNoHarm();
  });

  it('is refused on a header-signed SigV4 PUT', async () => {
    const req = await signV4(server, { method: 'PUT', path: `/privb/${key('v4h')}`, body: 'x' });
    const res = await send(server, { ...req, headers: { ...req.headers, [name]: value } });
    expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: name });
    expect(await exists('privb', key('v4h'))).toBe(false);
    await expectNoHarm();
  });

  it('breaks a SigV2 header signature', async () => {
    const req = signV2(server, { method: 'PUT', path: `/privb/${key('v2h')}`, body: 'x' });
    const res = await send(server, { ...req, headers: { ...req.headers, [name]: value } });
    expect(errorOf(res)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await exists('privb', key('v2h'))).toBe(false);
    await expectNoHarm();
  });

  it('breaks a SigV2 presigned URL', async () => {
    const req = presignV2(server, { method: 'PUT', path: `/privb/${key('v2q')}` });
    const res = await send(server, { ...req, headers: { ...req.headers, [name]: value }, body: 'x' });
    expect(errorOf(res)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await exists('privb', key('v2q'))).toBe(false);
    await expectNoHarm();
  });
});

describe('signed x-amz-* headers keep working', () => {
  it('takes an x-amz-acl signed into a presigned SigV4 URL, a SigV4 header signature and a SigV2 URL', async () => {
    const v4q = await presignV4(server, { method: 'PUT', path: '/privb/signed-q.bin', headers: { 'x-amz-acl': 'public-read' } });
    expect(new URLSearchParams(v4q.target.split('?')[1]).get('X-Amz-SignedHeaders')).toBe('host;x-amz-acl');
    expect((await send(server, { ...v4q, body: 'q' })).status).toBe(200);
    const v4h = await signV4(server, { method: 'PUT', path: '/privb/signed-h.bin', headers: { 'x-amz-acl': 'public-read', 'x-amz-meta-x': 'y' }, body: 'h' });
    expect((await send(server, v4h)).status).toBe(200);
    const v2q = presignV2(server, { method: 'PUT', path: '/privb/signed-2q.bin', headers: { 'x-amz-acl': 'public-read' } });
    expect((await send(server, { ...v2q, body: '2q' })).status).toBe(200);
    const v2h = signV2(server, { method: 'PUT', path: '/privb/signed-2h.bin', headers: { 'x-amz-acl': 'public-read' }, body: '2h' });
    expect((await send(server, v2h)).status).toBe(200);
    for (const key of ['signed-q.bin', 'signed-h.bin', 'signed-2q.bin', 'signed-2h.bin']) expect(await anonymousStatus(server, `/privb/${key}`)).toBe(200);
  });

  it('refuses a SigV2 URL that signed an x-amz-* header when the header is left off', async () => {
    const v2q = presignV2(server, { method: 'PUT', path: '/privb/dropped.bin', headers: { 'x-amz-acl': 'public-read' } });
    const res = await send(server, { ...v2q, headers: { host: v2q.headers.host! }, body: 'd' });
    expect(errorOf(res)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await exists('privb', 'dropped.bin')).toBe(false);
  });
});

describe('SDK presigned URLs used by a browser or curl', () => {
  const browserHeaders = {
    origin: 'https://www.example.com', referer: 'https://www.example.com/upload', 'user-agent': 'Mozilla/5.0', accept: '*/*',
    'accept-language': 'en', 'accept-encoding': 'gzip, br', 'cache-control': 'no-cache', pragma: 'no-cache',
    'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site', 'x-amzn-trace-id': 'Root=1-00000000-000000000000000000000000',
  };

  it('a PUT URL takes the headers browsers and curl add on their own, any Content-Type and Content-MD5 included', async () => {
    const url = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'privb', Key: 'browser.png', ContentType: 'image/png' }), { expiresIn: 60 }));
    const target = `${url.pathname}${url.search}`;
    const md5 = (await import('node:crypto')).createHash('md5').update('png bytes').digest('base64');
    const res = await send(server, { method: 'PUT', target, headers: { host: url.host, ...browserHeaders, 'content-type': 'image/png', 'content-md5': md5 }, body: 'png bytes' });
    expect(res.status, res.body).toBe(200);
    // Content-Type is not signed by the SDK's presigner (nor required to be, on AWS).
    const other = await send(server, { method: 'PUT', target, headers: { host: url.host, 'content-type': 'image/webp' }, body: 'webp bytes' });
    expect(other.status, other.body).toBe(200);
  });

  it('a GET URL takes Range and conditionals, which only narrow what comes back', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bobpriv', Key: 'secret.txt', ResponseContentType: 'text/plain' }), { expiresIn: 60 }));
    const target = `${url.pathname}${url.search}`;
    const ranged = await send(server, { method: 'GET', target, headers: { host: url.host, ...browserHeaders, range: 'bytes=0-2', 'if-none-match': '"nope"' } });
    expect(ranged.status).toBe(206);
    expect(ranged.body).toBe('top');
  });

  it('an ACL the SDK hoisted into the query is signed there; sending it as a header as well is refused, as on AWS', async () => {
    const url = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'privb', Key: 'hoisted.txt', ACL: 'public-read' }), { expiresIn: 60 }));
    expect(url.searchParams.get('x-amz-acl')).toBe('public-read');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    const target = `${url.pathname}${url.search}`;
    const res = await send(server, { method: 'PUT', target, headers: { host: url.host, 'x-amz-acl': 'public-read' }, body: 'x' });
    expect(errorOf(res, 'HeadersNotSigned')).toEqual({ status: 403, code: 'AccessDenied', message: NOT_SIGNED, extra: 'x-amz-acl' });
    expect(await exists('privb', 'hoisted.txt')).toBe(false);
    expect((await send(server, { method: 'PUT', target, headers: { host: url.host }, body: 'x' })).status).toBe(200);
  });
});
