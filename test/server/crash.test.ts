/**
 * kill -9 during concurrent overwrites: after a restart every key reads back whole as one
 * version that was written (never a mix, never truncated), at least as new as the last one
 * acknowledged, with no temp files and no orphan blobs left behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { startServer, type TestServer } from '../helpers/server.js';
import { INLINE_LIMIT } from '../../src/storage/blobs.js';
import { sdkClient } from '../helpers/clients.js';

const dataDir = mkdtempSync(join(tmpdir(), 'offload-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const KEYS = Array.from({ length: 12 }, (_, i) => `crash/key-${i}`);

/**
 * Deterministic content per (key, version), big enough that a torn write would show; even
 * versions fit in the database (up to INLINE_LIMIT), odd ones get a blob file.
 */
function content(key: string, version: number): Buffer {
  const spread = (version * 7919 + key.length * 104729) % 400_000;
  const size = version % 2 === 0 ? 2_000 + (spread % 60_000) : INLINE_LIMIT + 1 + spread;
  const seed = createHash('sha256').update(`${key}#${version}`).digest();
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  Buffer.from(`v=${version};`).copy(out, 0);
  return out;
}

function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    out = statSync(path).isDirectory() ? out.concat(filesUnder(path)) : out.concat(path);
  }
  return out;
}

describe('crash safety', () => {
  it('survives kill -9 during concurrent overwrites', async () => {
    let server: TestServer = await startServer({ dataDir });
    let s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    const acked = new Map<string, number>();
    let stop = false;
    const writers = KEYS.map(async (key) => {
      for (let v = 1; !stop; v++) {
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: content(key, v) }));
          acked.set(key, v);
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 2500));
    await server.kill();
    stop = true;
    await Promise.all(writers);
    s3.destroy();
    expect([...acked.values()].some((v) => v > 1)).toBe(true);

    server = await startServer({ dataDir });
    s3 = sdkClient(server);
    try {
      expect(filesUnder(join(dataDir, 'tmp'))).toEqual([]);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'crash' }));
      const listedKeys = (listed.Contents ?? []).map((o) => o.Key!);
      for (const key of KEYS) {
        if (!acked.has(key)) continue;
        expect(listedKeys, key).toContain(key);
      }
      for (const object of listed.Contents ?? []) {
        const key = object.Key!;
        const got = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        const version = Number(/^v=(\d+);/.exec(bytes.subarray(0, 20).toString('latin1'))?.[1]);
        expect(bytes.equals(content(key, version)), `${key} v${version} whole`).toBe(true);
        expect(version, key).toBeGreaterThanOrEqual(acked.get(key) ?? 0);
        expect(object.Size).toBe(bytes.length);
        expect(got.ETag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
      }
      // One blob per single-part object, a file or a row: anything more is an orphan the restart failed to reclaim.
      const sizes = (listed.Contents ?? []).map((o) => o.Size!);
      expect(filesUnder(join(dataDir, 'blobs')).length).toBe(sizes.filter((n) => n > INLINE_LIMIT).length);
      const db = new Database(join(dataDir, 'meta.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) FROM inline_blobs').pluck().get()).toBe(sizes.filter((n) => n <= INLINE_LIMIT).length);
      } finally {
        db.close();
      }
    } finally {
      s3.destroy();
      await server.stop({ keepData: true });
    }
  });
});
