/**
 * Encryption at rest against the real server with the AWS SDK: SSE-S3 and bucket default
 * encryption, SSE-C, ranges across frames, multipart, copies that change the key, the data
 * folder holding no plaintext, a flipped byte answered as an error, and master key rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand, PutObjectCommand, S3ServiceException, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { openSync, readdirSync, readSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { customerKey, filesContaining, markedBody, masterKeyFile, ssecHeaders } from './sse-helpers.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';

const MARKER = 'OFFLOAD-PLAINTEXT-MARKER-7f3a';

async function failure(p: Promise<unknown>): Promise<{ status?: number; code: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return { status: err.$metadata.httpStatusCode, code: err.name };
    throw err;
  }
  throw new Error('expected the request to fail');
}

async function body(s3: S3Client, input: ConstructorParameters<typeof GetObjectCommand>[0]): Promise<{ bytes: Buffer; sse?: string; md5?: string }> {
  const r = await s3.send(new GetObjectCommand(input));
  return { bytes: Buffer.from(await r.Body!.transformToByteArray()), sse: r.ServerSideEncryption, md5: r.SSECustomerKeyMD5 };
}

describe('encryption at rest (SSE-S3, SSE-C)', () => {
  let server: TestServer;
  let s3: S3Client;
  let keyFile: string;
  const small = markedBody(MARKER, 3000);
  const medium = markedBody(MARKER, 300 * 1024 + 17);
  const large = markedBody(MARKER, 3 * 1024 * 1024 + 5);
  const ck = customerKey();
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.b64, SSECustomerKeyMD5: ck.md5 };

  beforeAll(async () => {
    keyFile = masterKeyFile();
    server = await startServer({ args: ['--master-key-file', keyFile] });
    s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'sealed' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'by-default' }));
  });
  afterAll(async () => server?.stop());

  it('stores SSE-S3 objects encrypted and reads them back whole and by range', async () => {
    for (const [key, data] of [['small', small], ['medium', medium], ['large', large]] as const) {
      const put = await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: key, Body: data, ServerSideEncryption: 'AES256' }));
      expect(put.ServerSideEncryption).toBe('AES256');
      const got = await body(s3, { Bucket: 'sealed', Key: key });
      expect(got.sse).toBe('AES256');
      expect(got.bytes.equals(data)).toBe(true);
    }
    // A range across a frame boundary (64 KiB), and a suffix range.
    const ranged = await body(s3, { Bucket: 'sealed', Key: 'large', Range: 'bytes=65530-200000' });
    expect(ranged.bytes.equals(large.subarray(65530, 200001))).toBe(true);
    const suffix = await body(s3, { Bucket: 'sealed', Key: 'medium', Range: 'bytes=-100' });
    expect(suffix.bytes.equals(medium.subarray(medium.length - 100))).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'sealed', Key: 'large' }));
    expect(head.ContentLength).toBe(large.length);
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('applies the bucket default encryption to plain PUTs', async () => {
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'by-default', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    const config = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'by-default' }));
    expect(config.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'by-default', Key: 'implicit', Body: medium }));
    expect(put.ServerSideEncryption).toBe('AES256');
    expect((await body(s3, { Bucket: 'by-default', Key: 'implicit' })).bytes.equals(medium)).toBe(true);
    const kms = await failure(s3.send(new PutBucketEncryptionCommand({ Bucket: 'by-default', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } })));
    expect(kms).toEqual({ status: 501, code: 'NotImplemented' });
  });

  it('encrypts every part of a multipart upload, and reads across parts', async () => {
    const part1 = markedBody(MARKER, 5 * 1024 * 1024);
    const part2 = markedBody(MARKER, 1024 * 1024 + 3);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'sealed', Key: 'multi', ServerSideEncryption: 'AES256' }));
    const e1 = await s3.send(new UploadPartCommand({ Bucket: 'sealed', Key: 'multi', UploadId, PartNumber: 1, Body: part1 }));
    const e2 = await s3.send(new UploadPartCommand({ Bucket: 'sealed', Key: 'multi', UploadId, PartNumber: 2, Body: part2 }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'sealed', Key: 'multi', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
    expect(done.ServerSideEncryption).toBe('AES256');
    const whole = Buffer.concat([part1, part2]);
    expect((await body(s3, { Bucket: 'sealed', Key: 'multi' })).bytes.equals(whole)).toBe(true);
    const across = await body(s3, { Bucket: 'sealed', Key: 'multi', Range: `bytes=${part1.length - 10}-${part1.length + 70000}` });
    expect(across.bytes.equals(whole.subarray(part1.length - 10, part1.length + 70001))).toBe(true);
  });

  it('SSE-C: needs the same key for GET and HEAD, refuses a missing or wrong one with 400', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'customer', Body: medium, ...ssec }));
    expect(put.SSECustomerKeyMD5).toBe(ck.md5);
    const got = await body(s3, { Bucket: 'sealed', Key: 'customer', ...ssec });
    expect(got.bytes.equals(medium)).toBe(true);
    expect(got.md5).toBe(ck.md5);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'customer' })))).toEqual({ status: 400, code: 'InvalidRequest' });
    const other = customerKey();
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'customer', SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.b64, SSECustomerKeyMD5: other.md5 })))).toEqual({ status: 400, code: 'InvalidRequest' });
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket: 'sealed', Key: 'customer' })))).status).toBe(400);
    const ranged = await body(s3, { Bucket: 'sealed', Key: 'customer', Range: 'bytes=70000-70099', ...ssec });
    expect(ranged.bytes.equals(medium.subarray(70000, 70100))).toBe(true);
    // A key sent for an object that has none.
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'small', ...ssec })))).toEqual({ status: 400, code: 'InvalidRequest' });
  });

  it('leaves no plaintext in the data folder (blobs, database, WAL)', async () => {
    expect(filesContaining(server.dataDir, MARKER)).toEqual([]);
  });

  it('copies re-encrypt when the key changes and share blobs when it does not', async () => {
    const other = customerKey();
    // SSE-C (key A) -> SSE-C (key B)
    await s3.send(new CopyObjectCommand({ Bucket: 'sealed', Key: 'customer-b', CopySource: 'sealed/customer', CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: ck.b64, CopySourceSSECustomerKeyMD5: ck.md5, SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.b64, SSECustomerKeyMD5: other.md5 }));
    expect((await body(s3, { Bucket: 'sealed', Key: 'customer-b', SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.b64, SSECustomerKeyMD5: other.md5 })).bytes.equals(medium)).toBe(true);
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'customer-b', ...ssec })))).status).toBe(400);
    // SSE-C -> SSE-S3, and the source key is required.
    expect((await failure(s3.send(new CopyObjectCommand({ Bucket: 'sealed', Key: 'x', CopySource: 'sealed/customer' })))).status).toBe(400);
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'sealed', Key: 'customer-s3', CopySource: 'sealed/customer', CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: ck.b64, CopySourceSSECustomerKeyMD5: ck.md5, ServerSideEncryption: 'AES256' }));
    expect(copy.ServerSideEncryption).toBe('AES256');
    expect((await body(s3, { Bucket: 'sealed', Key: 'customer-s3' })).bytes.equals(medium)).toBe(true);
    // SSE-S3 -> SSE-S3 shares; SSE-S3 -> plain decrypts.
    await s3.send(new CopyObjectCommand({ Bucket: 'sealed', Key: 'large-copy', CopySource: 'sealed/large', ServerSideEncryption: 'AES256' }));
    expect((await body(s3, { Bucket: 'sealed', Key: 'large-copy' })).bytes.equals(large)).toBe(true);
    // (The one object stored unencrypted on purpose: the copy asked for no encryption.)
    const plain = await s3.send(new CopyObjectCommand({ Bucket: 'sealed', Key: 'plain-copy', CopySource: 'sealed/small' }));
    expect(plain.ServerSideEncryption).toBeUndefined();
    expect((await body(s3, { Bucket: 'sealed', Key: 'plain-copy' })).bytes.equals(small)).toBe(true);
  });

  it('answers a flipped ciphertext byte with an integrity error, never other bytes', async () => {
    const blob = largestBlob(server.dataDir);
    const at = 1024 * 1024 + 100;
    const fd = openSync(blob, 'r+');
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, at);
    one[0] = one[0]! ^ 0x01;
    writeSync(fd, one, 0, 1, at);
    closeSync(fd);
    const bad = await failure(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'large', Range: 'bytes=1000000-1100000' })));
    expect(bad).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
    // The frames before it still read; the server is alive.
    expect((await body(s3, { Bucket: 'sealed', Key: 'large', Range: 'bytes=0-99' })).bytes.equals(large.subarray(0, 100))).toBe(true);
    await expect(body(s3, { Bucket: 'sealed', Key: 'large' })).rejects.toThrow();
    expect(server.output()).toMatch(/integrity check failed/);
  });

  it('keeps every object readable across a master key rotation', async () => {
    const keep = server.dataDir;
    await server.stop({ keepData: true });
    const newKey = masterKeyFile();
    const rotate = spawnSync(process.execPath, [CLI, 'keys', 'rotate-master', '--old', keyFile, '--new', newKey, '--data', keep], { encoding: 'utf8' });
    expect(rotate.stderr).toBe('');
    expect(rotate.stdout).toMatch(/re-wrapped \d+ data keys/);
    server = await startServer({ dataDir: keep, args: ['--master-key-file', newKey] });
    s3 = sdkClient(server);
    expect((await body(s3, { Bucket: 'sealed', Key: 'medium' })).bytes.equals(medium)).toBe(true);
    expect((await body(s3, { Bucket: 'sealed', Key: 'small' })).bytes.equals(small)).toBe(true);
    expect((await body(s3, { Bucket: 'sealed', Key: 'multi', Range: 'bytes=0-9' })).bytes.length).toBe(10);
    expect((await body(s3, { Bucket: 'by-default', Key: 'implicit' })).bytes.equals(medium)).toBe(true);
    // SSE-C objects never depended on the master key.
    expect((await body(s3, { Bucket: 'sealed', Key: 'customer', ...ssec })).bytes.equals(medium)).toBe(true);
    await server.stop({ keepData: true });
    // The old key no longer opens them: an error, not bytes.
    server = await startServer({ dataDir: keep, args: ['--master-key-file', keyFile] });
    s3 = sdkClient(server);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'medium' })))).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
  });
});

describe('encryption at rest: refusals', () => {
  it('refuses SSE-S3 without a master key, and KMS always', async () => {
    const server = await startServer();
    try {
      const s3 = sdkClient(server);
      await s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
      expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' })))).toEqual({ status: 400, code: 'InvalidRequest' });
      expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' })))).toEqual({ status: 501, code: 'NotImplemented' });
      // SSE-C needs no master key.
      const ck = customerKey();
      await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'c', Body: 'customer', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.b64, SSECustomerKeyMD5: ck.md5 }));
      expect((await body(s3, { Bucket: 'bkt', Key: 'c', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.b64, SSECustomerKeyMD5: ck.md5 })).bytes.toString()).toBe('customer');
      // The SDK computes the key's MD5 itself: a wrong one is sent raw.
      const wrongMd5 = await rawRequest(server, toHttp(await signRequest(server, { method: 'PUT', path: '/bkt/c', body: 'x', headers: { ...ssecHeaders({ b64: ck.b64, md5: customerKey().md5 }) } })));
      expect(wrongMd5.status).toBe(400);
      expect(wrongMd5.body).toContain('<Code>InvalidArgument</Code>');
    } finally {
      await server.stop();
    }
  });

  it('refuses to start with a key file others can read, or one that is not 64 hex characters', async () => {
    await expect(startServer({ args: ['--master-key-file', masterKeyFile(undefined, 0o644)] })).rejects.toThrow(/readable by others/);
    const bad = masterKeyFile();
    spawnSync('sh', ['-c', `printf nothex > ${bad}`]);
    await expect(startServer({ args: ['--master-key-file', bad] })).rejects.toThrow(/64 hex characters/);
  });
});

function largestBlob(dataDir: string): string {
  let best = { path: '', size: -1 };
  for (const entry of readdirSync(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const size = statSync(path).size;
    if (size > best.size && size < 4 * 1024 * 1024) best = { path, size };
  }
  return best.path;
}
