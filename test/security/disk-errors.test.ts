/**
 * Item 8, without a small volume: every storage failure maps to its own S3 error (never
 * InternalError), and --min-free-space is honoured: above the volume's free space every object
 * write (PUT, small or large, UploadPart, POST) is refused with 507 while deletes, reads and
 * metadata work, and a malformed value stops the server at start-up with a clear message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { toS3Error } from '../../src/s3/respond.js';
import { parseMinFreeSpace } from '../../src/storage/disk-space.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

describe('storage failures map to specific S3 errors', () => {
  it.each([
    ['ENOSPC', 'XOffloadStorageFull', 507],
    ['EDQUOT', 'XOffloadStorageFull', 507],
    ['SQLITE_FULL', 'XOffloadStorageFull', 507],
    ['EIO', 'XOffloadStorageIOError', 500],
    ['EROFS', 'XOffloadStorageIOError', 500],
    ['SQLITE_IOERR_WRITE', 'XOffloadStorageIOError', 500],
    ['SQLITE_IOERR_FSYNC', 'XOffloadStorageIOError', 500],
  ])('%s -> %s %d', (code, s3code, status) => {
    const err = toS3Error(errno(code));
    expect(err.code).toBe(s3code);
    expect(err.status).toBe(status);
  });

  it('parses --min-free-space sizes and percentages', () => {
    expect(parseMinFreeSpace('512MiB')).toEqual({ bytes: 512 * 1024 * 1024 });
    expect(parseMinFreeSpace('0')).toEqual({ bytes: 0 });
    expect(parseMinFreeSpace('10%')).toEqual({ percent: 10 });
    expect(() => parseMinFreeSpace('lots')).toThrow(/--min-free-space/);
    expect(() => parseMinFreeSpace('100%')).toThrow(/--min-free-space/);
  });
});

describe('--min-free-space above the free space', () => {
  let server: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startServer();
    s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'quota', ACL: 'public-read-write' }));
    await s3.send(new PutObjectCommand({ Bucket: 'quota', Key: 'kept.txt', Body: 'kept' }));
    await server.stop({ keepData: true });
    s3.destroy();
    server = await startServer({ dataDir: server.dataDir, args: ['--min-free-space', '1000TiB'] });
    s3 = sdkClient(server);
  });
  afterAll(async () => {
    s3.destroy();
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  });

  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (err: S3ServiceException) => ({ name: err.name, status: err.$metadata.httpStatusCode, message: err.message }),
    );

  it('refuses every object write with 507 XOffloadStorageFull and its message', async () => {
    const message = expect.stringContaining('minimum free space') as unknown;
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket: 'quota', Key: 'small', Body: 'x' })))).toEqual({ name: 'XOffloadStorageFull', status: 507, message });
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket: 'quota', Key: 'large', Body: Buffer.alloc(1024 * 1024) })))).toEqual({ name: 'XOffloadStorageFull', status: 507, message });
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'quota', Key: 'mp' }));
    expect(await refusal(s3.send(new UploadPartCommand({ Bucket: 'quota', Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(100_000) })))).toEqual({ name: 'XOffloadStorageFull', status: 507, message });
    const form = new FormData();
    form.append('key', 'posted');
    form.append('file', new Blob(['x']));
    const posted = await fetch(`${server.endpoint}/quota`, { method: 'POST', body: form });
    expect(posted.status).toBe(507);
    expect(await posted.text()).toContain('<Code>XOffloadStorageFull</Code>');
  });

  it('refuses an Expect: 100-continue upload before the client sends its body', async () => {
    const parts = await signRequest(server, { method: 'PUT', path: '/quota/expect.bin', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', expect: '100-continue' } });
    const head = toHttp({ ...parts, headers: { ...parts.headers, 'content-length': String(50 * 1024 * 1024) }, body: '' });
    const res = await rawRequest(server, head);
    expect(res.status).toBe(507);
    expect(res.body).toContain('<Code>XOffloadStorageFull</Code>');
  });

  it('still reads and deletes, and stays up', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'quota', Key: 'kept.txt' }));
    expect(await got.Body!.transformToString()).toBe('kept');
    await s3.send(new DeleteObjectCommand({ Bucket: 'quota', Key: 'kept.txt' }));
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket: 'quota', Key: 'kept.txt' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(server.process.exitCode).toBeNull();
  });
});

describe('a malformed --min-free-space', () => {
  it('stops the server at start-up with a clear message', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offload-minfree-'));
    try {
      const run = promisify(execFile)(process.execPath, [CLI, 'serve', '--port', '0', '--data', dataDir, '--min-free-space', 'plenty']);
      const failed = await run.then(() => undefined, (err: { code: number; stderr: string }) => err);
      expect(failed?.code).not.toBe(0);
      expect(failed?.stderr).toContain('--min-free-space must be a size');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
