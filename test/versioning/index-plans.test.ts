/**
 * Version listing and the lifecycle sweep read indexes, never whole tables: each query's plan
 * is an index SEARCH with no sort of its own (so a page of a 100,000-version bucket costs a
 * page), and a real listing over many versions pages through all of them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { openStore } from '../../src/storage/engine.js';

const dataDir = mkdtempSync(join(tmpdir(), 'offload-version-plans-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const QUERIES = {
  versionsPage: 'SELECT * FROM versions WHERE bucket = ? AND (key, neg_seq) > (?, ?) AND key >= ? ORDER BY key, neg_seq LIMIT ?',
  currentPage: 'SELECT key, meta FROM objects WHERE bucket = ? AND key > ? AND key >= ? ORDER BY key LIMIT ?',
  dueCurrent: 'SELECT key, meta, modified FROM objects WHERE bucket = ? AND modified <= ? AND (modified, key) > (?, ?) ORDER BY modified, key LIMIT ?',
  dueNoncurrent: 'SELECT * FROM versions WHERE bucket = ? AND since <= ? AND (since, key, neg_seq) > (?, ?, ?) AND marker = 0 ORDER BY since, key, neg_seq LIMIT ?',
  markers: 'SELECT * FROM versions WHERE bucket = ? AND marker = 1 AND (since, key, neg_seq) > (?, ?, ?) ORDER BY since, key, neg_seq LIMIT ?',
};

describe('version indexes', () => {
  it('plans every listing and sweep query as an index search without a sort', async () => {
    const store = await openStore(dataDir, { minFreeSpace: { bytes: 0 } });
    await store.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    await store.setBucketConfig('b', 'versioning', 'Enabled');
    // 2,000 versions of 40 keys, written concurrently (one group commit per batch).
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 40 }, (_, k) => store.putObject({ bucket: 'b', key: `k${String(k).padStart(3, '0')}`, body: Readable.from([Buffer.from(`${round}`)]), owner: 'o', acl: { canned: 'private' }, userMeta: {} })));
    }
    let seen = 0;
    let page = await store.listObjectVersions!({ bucket: 'b', maxKeys: 333 });
    for (;;) {
      seen += page.versions.length;
      if (!page.isTruncated) break;
      page = await store.listObjectVersions!({ bucket: 'b', maxKeys: 333, keyMarker: page.nextKeyMarker, versionIdMarker: page.nextVersionIdMarker });
    }
    expect(seen).toBe(2000);
    await store.close();
    const db = new Database(join(dataDir, 'meta.db'), { readonly: true });
    try {
      for (const [name, sql] of Object.entries(QUERIES)) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1)).map((r) => (r as { detail: string }).detail).join(' | ');
        expect(plan, name).toMatch(/SEARCH/);
        expect(plan, name).not.toMatch(/TEMP B-TREE|^SCAN/);
      }
    } finally {
      db.close();
    }
  }, 60_000);
});
