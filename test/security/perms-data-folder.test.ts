/**
 * Item 9: the data folder holds every key's secret (meta.db) and every private object (blobs):
 * it is created 0700 with every file in it 0600, whatever the umask, and an existing tree that
 * is readable by other users is tightened at start-up with one warning line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { request } from 'node:http';
import { CreateBucketCommand, CreateMultipartUploadCommand, PutBucketLoggingCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sdkClient } from '../helpers/clients.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { signRequest } from '../helpers/raw.js';
import { treeOf } from './disk-harness.js';

const roots: string[] = [];
afterAll(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

function freshDataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'offload-perms-'));
  roots.push(root);
  return join(root, 'data');
}

/** Modes that are not 0700 (folders) or 0600 (files), as "relative/path 0755". */
function looseModes(dataDir: string): string[] {
  return treeOf(dataDir)
    .filter((e) => e.mode !== (e.isDir ? 0o700 : 0o600))
    .map((e) => `${relative(dataDir, e.path) || '.'} ${e.mode.toString(8)}`);
}

/** Writes a bit of everything a data folder can hold: blobs, inline rows, parts, access logs, usage rows. */
async function populate(server: TestServer): Promise<void> {
  const s3 = sdkClient(server);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'perms' }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'perms', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'perms', TargetPrefix: '' } } }));
    await s3.send(new PutObjectCommand({ Bucket: 'perms', Key: 'small.txt', Body: 'private' }));
    await s3.send(new PutObjectCommand({ Bucket: 'perms', Key: 'big.bin', Body: Buffer.alloc(300_000, 7) }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'perms', Key: 'mp.bin' }));
    await s3.send(new UploadPartCommand({ Bucket: 'perms', Key: 'mp.bin', UploadId, PartNumber: 1, Body: Buffer.alloc(200_000, 1) }));
  } finally {
    s3.destroy();
  }
}

/** Starts a PUT whose body stops half-way, so that its temp file exists; returns a function that ends it. */
async function halfUpload(server: TestServer): Promise<() => Promise<number>> {
  const body = Buffer.alloc(400_000, 3);
  const parts = await signRequest(server, { method: 'PUT', path: '/perms/pending.bin', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  const req = request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: parts.path, headers: { ...parts.headers, 'content-length': String(body.length) } });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, 300_000));
  await new Promise((r) => setTimeout(r, 300));
  return () => {
    req.end(body.subarray(300_000));
    return status;
  };
}

async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}

describe('data folder permissions', () => {
  for (const mask of [0o000, 0o022]) {
    it(`creates every folder 0700 and every file 0600 under umask ${mask.toString(8).padStart(3, '0')}`, async () => {
      const dataDir = freshDataDir();
      const server = await withUmask(mask, () => startServer({ dataDir }));
      try {
        await populate(server);
        const finish = await halfUpload(server);
        // Usage and access-log flushes run every 2 s: wait for one, with the WAL and temp file present.
        await new Promise((r) => setTimeout(r, 2500));
        const names = treeOf(dataDir).map((e) => relative(dataDir, e.path));
        for (const expected of ['meta.db', 'meta.db-wal', 'meta.db-shm', 'root.json', 'server.pid', 'tmp', 'blobs', 'logs', 'logs/perms.log']) expect(names).toContain(expected);
        expect(names.some((n) => n.startsWith('tmp/')), 'a temp file of the pending upload').toBe(true);
        expect(names.some((n) => /^blobs\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{32}$/.test(n)), 'a blob file').toBe(true);
        expect(looseModes(dataDir)).toEqual([]);
        expect(await finish()).toBe(200);
        expect(looseModes(dataDir)).toEqual([]);
      } finally {
        await server.stop();
      }
      expect(looseModes(dataDir)).toEqual([]);
      expect(server.output()).not.toMatch(/permission/i);
    });
  }

  it('keeps a folder that `offload keys create` made first private too', async () => {
    const dataDir = freshDataDir();
    await withUmask(0o000, () => promisify(execFile)(process.execPath, [CLI, 'keys', 'create', 'deploy', '--data', dataDir]));
    expect(treeOf(dataDir).map((e) => relative(dataDir, e.path))).toContain('meta.db');
    expect(looseModes(dataDir)).toEqual([]);
  });

  it('tightens an existing tree left 0755/0644 at start-up, with one warning line', async () => {
    const dataDir = freshDataDir();
    let server = await withUmask(0o022, () => startServer({ dataDir }));
    await populate(server);
    await server.stop();
    const entries = treeOf(dataDir);
    for (const e of entries) chmodSync(e.path, e.isDir ? 0o755 : 0o644);
    expect(looseModes(dataDir).length).toBe(entries.length);

    server = await startServer({ dataDir });
    try {
      expect(looseModes(dataDir)).toEqual([]);
      const warnings = server.output().split('\n').filter((l) => /permission/i.test(l));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(dataDir);
      // Still serving the tightened data.
      const s3 = sdkClient(server);
      await s3.send(new PutObjectCommand({ Bucket: 'perms', Key: 'after.txt', Body: 'ok' }));
      s3.destroy();
    } finally {
      await server.stop();
    }
    server = await startServer({ dataDir });
    await server.stop();
    expect(server.output(), 'no warning once tight').not.toMatch(/permission/i);
  });
});
