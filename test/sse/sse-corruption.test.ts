/**
 * Damaged ciphertext on disk, through the real server with the hot cache off (so every GET reads
 * and decrypts the blob): a flipped byte in the first, a middle or the last frame, in a frame's
 * body or its tag, answers 500 XOffloadIntegrityError for every range touching that frame, while
 * ranges elsewhere still read; a truncated blob is an error, never other bytes; a large object
 * (sent in chunks after the headers) is cut short, never completed with wrong bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { masterKeyFile } from './sse-helpers.js';

const F = 64 * 1024;
const TAG = 16;
const cipherSize = (plain: number) => plain + TAG * Math.ceil(plain / F);

async function get(s3: S3Client, key: string, range?: string): Promise<{ status: number; code?: string; bytes?: Buffer }> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: key, Range: range }));
    return { status: r.$metadata.httpStatusCode!, bytes: Buffer.from(await r.Body!.transformToByteArray()) };
  } catch (err) {
    if (err instanceof S3ServiceException) return { status: err.$metadata.httpStatusCode!, code: err.name };
    throw err;
  }
}

/** The blob file of an object, found by its ciphertext size (each object here has its own size). */
function blobOf(dataDir: string, plainSize: number): string {
  const want = cipherSize(plainSize);
  for (const entry of readdirSync(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(join(entry.parentPath, entry.name)).size === want) return join(entry.parentPath, entry.name);
  }
  throw new Error(`no blob of ${want} bytes`);
}

function flip(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, at);
  one[0] = one[0]! ^ 0x20;
  writeSync(fd, one, 0, 1, at);
  closeSync(fd);
}

describe('encryption at rest: damaged ciphertext fails closed (hot cache off)', () => {
  let server: TestServer;
  let s3: S3Client;
  // 4 frames, the last one short; read whole into one buffer by the server.
  const medium = randomBytes(3 * F + 1000);
  // Over 2 MiB: a whole GET is sent in chunks, after the headers.
  const large = randomBytes(2 * 1024 * 1024 + 3 * F + 5);

  beforeAll(async () => {
    server = await startServer({ args: ['--master-key-file', masterKeyFile(), '--hot-cache', '0'] });
    s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'sealed' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'medium', Body: medium, ServerSideEncryption: 'AES256' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'large', Body: large, ServerSideEncryption: 'AES256' }));
  });
  afterAll(() => server?.stop());

  it('answers a flipped byte in each frame position with 500 XOffloadIntegrityError; other frames still read', async () => {
    const blob = blobOf(server.dataDir, medium.length);
    const frames = Math.ceil(medium.length / F);
    for (let frame = 0; frame < frames; frame++) {
      const length = Math.min(F, medium.length - frame * F);
      for (const within of [0, length >> 1, length - 1, length + 5]) {
        const at = frame * (F + TAG) + within;
        flip(blob, at);
        const start = frame * F;
        const end = start + length - 1;
        expect(await get(s3, 'medium')).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
        expect(await get(s3, 'medium', `bytes=${start}-${end}`)).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
        expect(await get(s3, 'medium', `bytes=${end}-${end}`)).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
        // The frames around it are read and checked on their own.
        if (frame > 0) expect((await get(s3, 'medium', `bytes=0-${start - 1}`)).bytes?.equals(medium.subarray(0, start))).toBe(true);
        if (frame < frames - 1) expect((await get(s3, 'medium', `bytes=${end + 1}-`)).bytes?.equals(medium.subarray(end + 1))).toBe(true);
        flip(blob, at);
      }
    }
    expect((await get(s3, 'medium')).bytes?.equals(medium)).toBe(true);
    expect(server.output()).toMatch(/integrity check failed for blob \S+, frame 3/);
  });

  it('cuts a chunked download short at a damaged frame, never completing it with other bytes', async () => {
    const blob = blobOf(server.dataDir, large.length);
    const lastFrame = Math.ceil(large.length / F) - 1;
    const at = lastFrame * (F + TAG) + 2;
    flip(blob, at);
    await expect(get(s3, 'large')).rejects.toThrow();
    expect(await get(s3, 'large', `bytes=${lastFrame * F}-`)).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
    expect((await get(s3, 'large', 'bytes=0-1048575')).bytes?.equals(large.subarray(0, 1048576))).toBe(true);
    flip(blob, at);
    expect((await get(s3, 'large')).bytes?.equals(large)).toBe(true);
  });

  it('fails on a truncated blob, and the server stays up', async () => {
    const blob = blobOf(server.dataDir, medium.length);
    truncateSync(blob, cipherSize(medium.length) - 10);
    const whole = await get(s3, 'medium');
    expect(whole.status).toBe(500);
    expect(whole.bytes).toBeUndefined();
    expect((await get(s3, 'medium', `bytes=${3 * F}-${3 * F + 10}`)).status).toBe(500);
    expect((await get(s3, 'medium', `bytes=0-${F - 1}`)).bytes?.equals(medium.subarray(0, F))).toBe(true);
    // Cut at a frame boundary: the last frame is gone entirely.
    truncateSync(blob, 3 * (F + TAG));
    expect((await get(s3, 'medium')).status).toBe(500);
    expect((await get(s3, 'large', 'bytes=0-9')).bytes?.equals(large.subarray(0, 10))).toBe(true);
  });
});
