/**
 * Headers asking for protection this server does not give (SSE, SSE-C, Object Lock) are
 * refused, never stored without it; the harmless ones keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { code, expectAlive, expectError, expectNoStrayFiles, signed, startHarness, type Harness } from './input-harness.js';

let h: Harness;
const bucket = 'unsupported';

beforeAll(async () => {
  h = await startHarness();
  await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.txt', Body: 'plain' }));
});
afterAll(async () => {
  await h?.stop();
});

const key = Buffer.alloc(32, 7).toString('base64');
const keyMd5 = createHash('md5').update(Buffer.alloc(32, 7)).digest('base64');
const SSE_C = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': key, 'x-amz-server-side-encryption-customer-key-md5': keyMd5 };
const COPY_SSE_C = Object.fromEntries(Object.entries(SSE_C).map(([k, v]) => [k.replace('x-amz-', 'x-amz-copy-source-'), v]));

async function createUpload(k: string): Promise<string> {
  const res = await signed(h, 'POST', `/${bucket}/${k}`, { query: { uploads: '' } });
  expect(res.status).toBe(200);
  return /<UploadId>([^<]+)</.exec(res.body)![1]!;
}

async function expectAbsent(k: string): Promise<void> {
  const res = await signed(h, 'HEAD', `/${bucket}/${k}`);
  expect(res.status).toBe(404);
}

describe('server-side encryption', () => {
  it.each([
    ['aws:kms', { 'x-amz-server-side-encryption': 'aws:kms' }],
    ['aws:kms:dsse', { 'x-amz-server-side-encryption': 'aws:kms:dsse' }],
    ['a KMS key id', { 'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:1:key/x' }],
    ['a KMS context', { 'x-amz-server-side-encryption-context': 'e30=' }],
    ['bucket keys', { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' }],
  ])('PutObject with %s is 501 NotImplemented and stores nothing', async (_name, headers) => {
    await expectError(signed(h, 'PUT', `/${bucket}/sse.txt`, { headers, body: 'secret' }), 501, 'NotImplemented');
    await expectAbsent('sse.txt');
    await expectNoStrayFiles(h);
  });

  it('PutObject with AES256 on a server without --master-key-file is 400 InvalidRequest and stores nothing (test/sse/ covers encryption)', async () => {
    await expectError(signed(h, 'PUT', `/${bucket}/sse.txt`, { headers: { 'x-amz-server-side-encryption': 'AES256' }, body: 'secret' }), 400, 'InvalidRequest');
    await expectAbsent('sse.txt');
    await expectNoStrayFiles(h);
  });

  it('an unknown x-amz-server-side-encryption value is 400 InvalidArgument', async () => {
    await expectError(signed(h, 'PUT', `/${bucket}/sse.txt`, { headers: { 'x-amz-server-side-encryption': 'rot13' }, body: 'x' }), 400, 'InvalidArgument');
  });

  it('the SDK sees the refusal too', async () => {
    const err = await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-kms.txt', Body: 'x', ServerSideEncryption: 'aws:kms' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    expect((err as S3ServiceException).name).toBe('NotImplemented');
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(501);
  });

  it('CopyObject and CreateMultipartUpload refuse KMS (and SSE-S3 without a master key); UploadPart refuses a key its upload has not', async () => {
    const copy = { 'x-amz-copy-source': `/${bucket}/plain.txt` };
    await expectError(signed(h, 'PUT', `/${bucket}/copy.txt`, { headers: { ...copy, 'x-amz-server-side-encryption': 'aws:kms' } }), 501, 'NotImplemented');
    await expectAbsent('copy.txt');
    await expectError(signed(h, 'POST', `/${bucket}/mp.bin`, { query: { uploads: '' }, headers: { 'x-amz-server-side-encryption': 'aws:kms' } }), 501, 'NotImplemented');
    await expectError(signed(h, 'POST', `/${bucket}/mp.bin`, { query: { uploads: '' }, headers: { 'x-amz-server-side-encryption': 'AES256' } }), 400, 'InvalidRequest');
    const uploadId = await createUpload('mp.bin');
    await expectError(signed(h, 'PUT', `/${bucket}/mp.bin`, { query: { uploadId, partNumber: '1' }, headers: SSE_C, body: 'part' }), 400, 'InvalidRequest');
    await expectNoStrayFiles(h);
  });

  it('a copy-source customer key is 400 InvalidRequest (no source is SSE-C encrypted), on CopyObject and UploadPartCopy', async () => {
    await expectError(signed(h, 'PUT', `/${bucket}/copy.txt`, { headers: { 'x-amz-copy-source': `/${bucket}/plain.txt`, ...COPY_SSE_C } }), 400, 'InvalidRequest');
    const uploadId = await createUpload('mpc.bin');
    await expectError(signed(h, 'PUT', `/${bucket}/mpc.bin`, { query: { uploadId, partNumber: '1' }, headers: { 'x-amz-copy-source': `/${bucket}/plain.txt`, ...COPY_SSE_C } }), 400, 'InvalidRequest');
  });

  it('GET and HEAD with a customer key are 400 InvalidRequest, never the plaintext', async () => {
    const get = await signed(h, 'GET', `/${bucket}/plain.txt`, { headers: SSE_C });
    expect({ status: get.status, code: code(get.body) }).toEqual({ status: 400, code: 'InvalidRequest' });
    expect(get.body).not.toContain('plain</');
    const head = await signed(h, 'HEAD', `/${bucket}/plain.txt`, { headers: SSE_C });
    expect(head.status).toBe(400);
  });
});

describe('Object Lock', () => {
  it.each([
    ['mode', { 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00Z' }],
    ['retain-until-date', { 'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00Z' }],
    ['legal-hold', { 'x-amz-object-lock-legal-hold': 'ON' }],
  ])('PutObject with object-lock %s is 400 InvalidRequest (no bucket has Object Lock)', async (_name, headers) => {
    await expectError(signed(h, 'PUT', `/${bucket}/locked.txt`, { headers, body: 'keep me' }), 400, 'InvalidRequest');
    await expectAbsent('locked.txt');
  });

  it('CopyObject and CreateMultipartUpload refuse object-lock headers too', async () => {
    await expectError(signed(h, 'PUT', `/${bucket}/locked.txt`, { headers: { 'x-amz-copy-source': `/${bucket}/plain.txt`, 'x-amz-object-lock-legal-hold': 'ON' } }), 400, 'InvalidRequest');
    await expectError(signed(h, 'POST', `/${bucket}/locked.txt`, { query: { uploads: '' }, headers: { 'x-amz-object-lock-mode': 'GOVERNANCE' } }), 400, 'InvalidRequest');
  });

  it('CreateBucket with x-amz-bucket-object-lock-enabled: true is 501 and makes no bucket; false is fine', async () => {
    await expectError(signed(h, 'PUT', '/locked-bucket', { headers: { 'x-amz-bucket-object-lock-enabled': 'true' } }), 501, 'NotImplemented');
    expect((await signed(h, 'HEAD', '/locked-bucket')).status).toBe(404);
    await expectError(signed(h, 'PUT', '/locked-bucket', { headers: { 'x-amz-bucket-object-lock-enabled': 'maybe' } }), 400, 'InvalidArgument');
    expect((await signed(h, 'PUT', '/unlocked-bucket', { headers: { 'x-amz-bucket-object-lock-enabled': 'false' } })).status).toBe(200);
  });
});

describe('POST form fields', () => {
  async function post(fields: Record<string, string>): Promise<Response> {
    const form = new FormData();
    form.append('key', 'form.txt');
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob(['form body']), 'f.txt');
    // public-read-write: no policy needed, the fields alone are checked.
    return fetch(`${h.server.endpoint}/open-form`, { method: 'POST', body: form });
  }

  it.each([
    ['x-amz-server-side-encryption', 'aws:kms', 501, 'NotImplemented'],
    ['x-amz-server-side-encryption-customer-algorithm', 'AES256', 501, 'NotImplemented'],
    ['x-amz-object-lock-mode', 'COMPLIANCE', 400, 'InvalidRequest'],
    ['x-amz-object-lock-legal-hold', 'ON', 400, 'InvalidRequest'],
    ['x-amz-storage-class', 'PLATINUM', 400, 'InvalidStorageClass'],
    ['x-amz-website-redirect-location', 'javascript:alert(1)', 400, 'InvalidRedirectLocation'],
    ['x-amz-meta-evil', 'a\r\nX-Evil: 1', 400, 'InvalidArgument'],
    ['content-disposition', 'inline\r\nSet-Cookie: a=b', 400, 'InvalidArgument'],
    ['x-amz-meta-bad name', 'v', 400, 'InvalidArgument'],
  ])('a form with %s=%j is %i %s and stores nothing', async (name, value, status, errorCode) => {
    await h.s3.send(new CreateBucketCommand({ Bucket: 'open-form', ACL: 'public-read-write' })).catch(() => undefined);
    const res = await post({ [name]: value });
    expect({ status: res.status, code: code(await res.text()) }).toEqual({ status, code: errorCode });
    expect((await signed(h, 'HEAD', '/open-form/form.txt')).status).toBe(404);
    await expectNoStrayFiles(h);
  });
});

describe('versionId of a version that does not exist (a never-versioned bucket)', () => {
  it('DELETE of it is 204, as on S3 (deleting a version is idempotent), the current object untouched', async () => {
    const res = await signed(h, 'DELETE', `/${bucket}/plain.txt`, { query: { versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' } });
    expect(res.status).toBe(204);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain.txt' }));
    expect(await got.Body!.transformToString()).toBe('plain');
  });

  it.each([['GET', {}], ['HEAD', {}], ['GET', { acl: '' }], ['GET', { tagging: '' }], ['DELETE', { tagging: '' }]] as const)('%s %j with a named version is 404 NoSuchVersion, the current object untouched', async (method, extra) => {
    const res = await signed(h, method, `/${bucket}/plain.txt`, { query: { ...extra, versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' } });
    expect(res.status).toBe(404);
    if (method !== 'HEAD') expect(code(res.body)).toBe('NoSuchVersion');
    const got = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain.txt' }));
    expect(await got.Body!.transformToString()).toBe('plain');
  });

  it('versionId=null is every object\'s version and works', async () => {
    const res = await signed(h, 'GET', `/${bucket}/plain.txt`, { query: { versionId: 'null' } });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: 'plain' });
  });
});

describe('storage class, expected owner, checksum algorithm, request payer', () => {
  it('AWS storage classes are accepted and reported STANDARD; unknown ones are 400 InvalidStorageClass', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ia.txt', Body: 'x', StorageClass: 'STANDARD_IA' }));
    const listed = await h.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'ia.txt' }));
    expect(listed.Contents?.[0]?.StorageClass).toBe('STANDARD');
    await expectError(signed(h, 'PUT', `/${bucket}/odd.txt`, { headers: { 'x-amz-storage-class': 'PLATINUM' }, body: 'x' }), 400, 'InvalidStorageClass');
    await expectError(signed(h, 'POST', `/${bucket}/odd.txt`, { query: { uploads: '' }, headers: { 'x-amz-storage-class': 'platinum' } }), 400, 'InvalidStorageClass');
  });

  it('x-amz-expected-bucket-owner that is not the owner is 403 AccessDenied; the owner passes', async () => {
    await expectError(signed(h, 'PUT', `/${bucket}/owned.txt`, { headers: { 'x-amz-expected-bucket-owner': '111122223333' }, body: 'x' }), 403, 'AccessDenied');
    await expectError(signed(h, 'GET', `/${bucket}/plain.txt`, { headers: { 'x-amz-expected-bucket-owner': '111122223333' } }), 403, 'AccessDenied');
    await expectError(signed(h, 'PUT', `/${bucket}/copied.txt`, { headers: { 'x-amz-copy-source': `/${bucket}/plain.txt`, 'x-amz-source-expected-bucket-owner': '111122223333' } }), 403, 'AccessDenied');
    const owner = /<ID>([^<]+)<\/ID>/.exec((await signed(h, 'GET', `/${bucket}`, { query: { acl: '' } })).body)![1]!;
    expect((await signed(h, 'GET', `/${bucket}/plain.txt`, { headers: { 'x-amz-expected-bucket-owner': owner } })).status).toBe(200);
  });

  it('an unknown x-amz-checksum-algorithm is 400 InvalidRequest', async () => {
    await expectError(signed(h, 'PUT', `/${bucket}/ck.txt`, { headers: { 'x-amz-checksum-algorithm': 'MD4' }, body: 'x' }), 400, 'InvalidRequest');
    await expectError(signed(h, 'PUT', `/${bucket}/ck.txt`, { headers: { 'x-amz-sdk-checksum-algorithm': 'MD4' }, body: 'x' }), 400, 'InvalidRequest');
  });

  it('x-amz-request-payer is harmless and accepted', async () => {
    expect((await signed(h, 'PUT', `/${bucket}/payer.txt`, { headers: { 'x-amz-request-payer': 'requester' }, body: 'x' })).status).toBe(200);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'payer.txt', RequestPayer: 'requester' }));
    expect(await got.Body!.transformToString()).toBe('x');
    await h.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'payer.txt' }));
    await expectAlive(h, bucket);
  });
});
