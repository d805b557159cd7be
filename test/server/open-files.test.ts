/**
 * File-backed reads: descriptors come from a cache (storage/fd-cache.ts) and medium bodies are
 * read into reused buffers (storage/buffer-pool.ts). Neither may change what a client gets: a
 * download that began before an overwrite and a delete still gets the old bytes whole, concurrent
 * downloads of different objects never see each other's bytes, and a deleted blob's file is not
 * kept open once its readers are done.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
const Bucket = 'files';

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const put = (Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body, ACL: 'public-read' }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function openBlobFiles(): string[] {
  const dir = `/proc/${server.process.pid}/fd`;
  const out: string[] = [];
  for (const fd of readdirSync(dir)) {
    try {
      const target = readlinkSync(`${dir}/${fd}`);
      if (target.includes('/blobs/')) out.push(target);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

it('finishes a download that began before the object was overwritten and deleted, with the old bytes', async () => {
  const old = randomBytes(12 * 1024 * 1024);
  await put('moving.bin', old);
  const got = await new Promise<Buffer>((resolve, reject) => {
    const req = request(`${server.endpoint}/${Bucket}/moving.bin`, (res) => {
      const chunks: Buffer[] = [];
      res.once('data', (first: Buffer) => {
        chunks.push(first);
        res.pause();
        void (async () => {
          await put('moving.bin', randomBytes(3 * 1024 * 1024));
          await s3.send(new DeleteObjectCommand({ Bucket, Key: 'moving.bin' }));
          res.on('data', (c: Buffer) => chunks.push(c));
          res.resume();
        })().catch(reject);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  expect(got.length).toBe(old.length);
  expect(sha(got)).toBe(sha(old));
});

it('never mixes the bytes of concurrent medium downloads', async () => {
  const bodies = [randomBytes(1024 * 1024), randomBytes(1024 * 1024 + 12345), randomBytes(700 * 1024), randomBytes(2 * 1024 * 1024)];
  for (const [i, b] of bodies.entries()) await put(`medium-${i}.bin`, b);
  const sums = bodies.map(sha);
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let n = 0; n < 12; n++) {
        const i = (w + n) % bodies.length;
        const res = await fetch(`${server.endpoint}/${Bucket}/medium-${i}.bin`);
        expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sums[i]);
      }
    }),
  );
  const ranged = await fetch(`${server.endpoint}/${Bucket}/medium-1.bin`, { headers: { Range: 'bytes=1000-600000' } });
  expect(Buffer.from(await ranged.arrayBuffer()).equals(bodies[1]!.subarray(1000, 600001))).toBe(true);
});

it.skipIf(process.platform !== 'linux')('keeps one descriptor per read blob, and none for a deleted one', async () => {
  const body = randomBytes(300 * 1024);
  await put('held.bin', body);
  for (let i = 0; i < 5; i++) expect((await fetch(`${server.endpoint}/${Bucket}/held.bin`)).status).toBe(200);
  const held = openBlobFiles().filter((p) => !p.endsWith('(deleted)'));
  expect(held.length).toBeGreaterThanOrEqual(1);
  expect(new Set(held).size).toBe(held.length);
  // A download the client abandons half-way releases its descriptor too.
  await put('abandoned.bin', randomBytes(16 * 1024 * 1024));
  await new Promise<void>((resolve, reject) => {
    const req = request(`${server.endpoint}/${Bucket}/abandoned.bin`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
    req.end();
  });
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'abandoned.bin' }));
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'held.bin' }));
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'moving.bin' }));
  await new Promise((r) => setTimeout(r, 300));
  expect(openBlobFiles().filter((p) => p.endsWith('(deleted)'))).toEqual([]);
  expect((await fetch(`${server.endpoint}/${Bucket}/medium-0.bin`)).status).toBe(200);
});
