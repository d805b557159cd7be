/**
 * kill -9 during versioned overwrites: after a restart every acknowledged version is there,
 * byte for byte, under its version id; the listing of versions is consistent (one latest per
 * key, newest first, the current object is the newest listed version); no blob is orphaned.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { INLINE_LIMIT } from '../../src/storage/blobs.js';

const dataDir = mkdtempSync(join(tmpdir(), 'offload-version-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const KEYS = Array.from({ length: 8 }, (_, i) => `v/key-${i}`);

/** Deterministic bytes per (key, n): even n inline in the database, odd n a blob file. */
function content(key: string, n: number): Buffer {
  const size = n % 2 === 0 ? 1_000 + ((n * 7919) % 20_000) : INLINE_LIMIT + 1 + ((n * 104729) % 200_000);
  const seed = createHash('sha256').update(`${key}#${n}`).digest();
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  return out;
}

async function allVersions(s3: S3Client): Promise<{ key: string; id: string; latest: boolean; size: number }[]> {
  const out: { key: string; id: string; latest: boolean; size: number }[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'crash', KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: 7 }));
    expect(page.DeleteMarkers ?? []).toEqual([]);
    for (const v of page.Versions ?? []) out.push({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, size: v.Size! });
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

describe('versioned crash safety', () => {
  it('keeps every acknowledged version through kill -9 during overwrites', async () => {
    let server: TestServer = await startServer({ dataDir });
    let s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'crash', VersioningConfiguration: { Status: 'Enabled' } }));
    const acked = new Map<string, { id: string; n: number }[]>();
    let stop = false;
    const writers = KEYS.map(async (key) => {
      for (let n = 1; !stop; n++) {
        try {
          const r = await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: content(key, n) }));
          acked.set(key, [...(acked.get(key) ?? []), { id: r.VersionId!, n }]);
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
    expect([...acked.values()].some((list) => list.length > 1)).toBe(true);

    server = await startServer({ dataDir });
    s3 = sdkClient(server);
    try {
      const listed = await allVersions(s3);
      // S3's order: key ascending, newest first, exactly one latest per key, and it leads its key.
      for (let i = 1; i < listed.length; i++) expect(listed[i - 1]!.key <= listed[i]!.key).toBe(true);
      for (const key of new Set(listed.map((v) => v.key))) {
        const mine = listed.filter((v) => v.key === key);
        expect(mine.map((v) => v.latest)).toEqual(mine.map((_, i) => i === 0));
        expect([...mine.map((v) => v.id)].sort().reverse()).toEqual(mine.map((v) => v.id));
      }
      for (const [key, versions] of acked) {
        for (const { id, n } of versions) {
          expect(listed.some((v) => v.key === key && v.id === id), `${key} ${id} listed`).toBe(true);
          const got = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key, VersionId: id }));
          const bytes = Buffer.from(await got.Body!.transformToByteArray());
          expect(bytes.equals(content(key, n)), `${key} #${n} whole`).toBe(true);
          expect(got.VersionId).toBe(id);
        }
        // The current object is the newest listed version of its key.
        const current = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
        expect(current.VersionId).toBe(listed.find((v) => v.key === key && v.latest)!.id);
        await current.Body!.transformToByteArray();
      }
      // Every listed version owns one blob (a file or an inline row): nothing leaked, nothing lost.
      const db = new Database(join(dataDir, 'meta.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(listed.filter((v) => v.size > 0).length);
        expect(db.prepare('SELECT count(*) FROM blobs WHERE refs <> 1').pluck().get()).toBe(0);
      } finally {
        db.close();
      }
    } finally {
      s3.destroy();
      await server.stop({ keepData: true });
    }
  });
});
