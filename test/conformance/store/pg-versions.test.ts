/**
 * Versioning on PgStore beyond the contract cases: the same random history of writes, deletes
 * and versioning changes applied to the embedded engine and to PgStore lists the same versions
 * and markers (S3 order, IsLatest, prefix, delimiter, paging by key/version-id marker: one
 * listing loop, two sources); concurrent versioned PUTs through several PgStores keep blob
 * reference counts exact; the lifecycle sweep runs on one node at a time (advisory lock);
 * the same lifecycle rules expire the same versions, markers and uploads on both stores;
 * `offload migrate`'s copy carries a versioned bucket's whole history both ways; over 100,000
 * versions, a listing page and the sweep's queries are index scans without a sort.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Engine } from '../../../src/storage/engine.js';
import { copyStore } from '../../../src/storage/store-copy.js';
import { DUE_CURRENT, DUE_NONCURRENT, MARKERS } from '../../../src/storage/postgres/lifecycle.js';
import { openPgStore, type PgStore } from '../../../src/storage/postgres/store.js';
import { VERSION_PAGE } from '../../../src/storage/postgres/versions.js';
import type { ListVersionsInput, PutObjectInput, Store } from '../../../src/storage/types.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { missingPeer } from '../../helpers/require-peer.js';

const DAY_MS = 24 * 3600 * 1000;
const put = (bucket: string, key: string, body: string, extra: Partial<PutObjectInput> = {}): PutObjectInput => ({ bucket, key, body: Readable.from([Buffer.from(body)]), owner: 'o', acl: { canned: 'private' }, userMeta: {}, ...extra });

let server: Promise<TestPostgres> | undefined;
let databases = 0;
const dirs: string[] = [];
afterAll(async () => {
  await (await server)?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function freshPg(instances = 1): Promise<{ stores: PgStore[]; url: string }> {
  server ??= startPostgres();
  const url = await (await server).createDatabase(`v${++databases}`);
  const dir = mkdtempSync(join(tmpdir(), 'offload-pgv-'));
  dirs.push(dir);
  const stores = [];
  for (let i = 0; i < instances; i++) stores.push(await openPgStore(url, { blobDir: dir, blobGraceMs: 500 }));
  return { stores, url };
}

/** A seeded generator, so that a failure replays. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Every page of a version listing, ids replaced by their place in the listing (the stores make different ids). */
async function listAll(store: Store, input: Omit<ListVersionsInput, 'bucket'>): Promise<unknown[]> {
  const pages: unknown[] = [];
  let marker: Pick<ListVersionsInput, 'keyMarker' | 'versionIdMarker'> = {};
  const ids = new Map<string, number>();
  const idOf = (id: string | undefined) => (id === undefined ? 'null' : (ids.get(id) ?? ids.set(id, ids.size).get(id)));
  for (let n = 0; n < 200; n++) {
    const page = await store.listObjectVersions!({ bucket: 'b', ...input, ...marker });
    pages.push({
      versions: page.versions.map((v) => [v.meta.key, idOf(v.meta.versionId), v.isLatest, v.meta.deleteMarker ?? false, v.meta.etag]),
      prefixes: page.commonPrefixes,
      truncated: page.isTruncated,
      next: [page.nextKeyMarker, page.nextVersionIdMarker === undefined ? undefined : idOf(page.nextVersionIdMarker === 'null' ? undefined : page.nextVersionIdMarker)],
    });
    if (!page.isTruncated) return pages;
    marker = { keyMarker: page.nextKeyMarker, versionIdMarker: page.nextVersionIdMarker };
  }
  throw new Error('listing did not end');
}

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('versioning on PostgreSQL metadata', () => {
  it('the same random history lists the same versions on the embedded engine and on PgStore, page by page', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offload-pgv-sqlite-'));
    dirs.push(dataDir);
    const sqlite = await openStore(dataDir, { minFreeSpace: { bytes: 0 } });
    const { stores: [pgStore] } = await freshPg();
    const both: Store[] = [sqlite, pgStore!];
    for (const s of both) await s.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    const keys = ['a', 'a/1', 'a/2', 'a/b/1', 'b', 'b/x', 'c/é', 'c/z', 'd'];
    const next = random(20261202);
    const pick = <T,>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    for (let step = 0; step < 160; step++) {
      const r = next();
      const key = pick(keys);
      if (step === 10) for (const s of both) await s.setBucketConfig('b', 'versioning', 'Enabled');
      else if (step === 90) for (const s of both) await s.setBucketConfig('b', 'versioning', 'Suspended');
      else if (step === 120) for (const s of both) await s.setBucketConfig('b', 'versioning', 'Enabled');
      else if (r < 0.6) for (const s of both) await s.putObject(put('b', key, `${key}#${step}`));
      else if (r < 0.8) for (const s of both) await s.deleteObject('b', key);
      else {
        // Remove the n-th version of the key (the same one on both: by place, not id).
        const n = Math.floor(next() * 3);
        for (const s of both) {
          const versions = (await s.listObjectVersions!({ bucket: 'b', prefix: key, maxKeys: 1000 })).versions.filter((v) => v.meta.key === key);
          const target = versions[n];
          if (target) await s.deleteObject('b', key, target.meta.versionId ?? 'null');
        }
      }
    }
    for (const query of [{ maxKeys: 1000 }, { maxKeys: 1 }, { maxKeys: 3 }, { maxKeys: 2, delimiter: '/' }, { maxKeys: 4, prefix: 'a/', delimiter: '/' }, { maxKeys: 5, prefix: 'c' }, { maxKeys: 0 }]) {
      expect(await listAll(pgStore!, query), JSON.stringify(query)).toEqual(await listAll(sqlite, query));
    }
    expect(await pgStore!.versionUsage!('b')).toEqual(await sqlite.versionUsage!('b'));
    for (const key of keys) {
      const [x, y] = await Promise.all(both.map((s) => s.headObject('b', key)));
      expect(y?.etag, key).toBe(x?.etag);
    }
    await sqlite.close();
    await pgStore!.close();
  }, 120_000);

  it('concurrent versioned PUTs and deletes through three instances keep every blob reference exact', async () => {
    const { stores, url } = await freshPg(3);
    await stores[0]!.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    await stores[1]!.setBucketConfig('b', 'versioning', 'Enabled');
    for (const s of stores) await s.refresh();
    // Bodies over the inline limit too, so that both kinds of blob are counted.
    await Promise.all(stores.flatMap((s, n) => Array.from({ length: 15 }, (_, k) => s.putObject(put('b', `k${k % 3}`, `${n}-${k}-`.padEnd(k % 2 ? 70_000 : 10, 'x'))))));
    await Promise.all(stores.map((s, n) => s.deleteObject('b', `k${n}`)));
    const db = new pg.Client(url);
    await db.connect();
    try {
      const refs = async () => (await db.query<{ id: string; refs: number }>('SELECT id, refs FROM blobs WHERE refs > 0')).rows;
      const rows = (await db.query<{ n: string; markers: string; current: string }>("SELECT count(*)::text AS n, count(*) FILTER (WHERE marker)::text AS markers, count(*) FILTER (WHERE is_current)::text AS current FROM objects")).rows[0]!;
      expect(rows).toEqual({ n: '48', markers: '3', current: '0' });
      // Every version holds one reference to its blob, and nothing else holds any.
      expect((await refs()).map((r) => r.refs)).toEqual(Array(45).fill(1));
      for (const s of stores) await s.refresh();
      const listed = (await stores[2]!.listObjectVersions!({ bucket: 'b', maxKeys: 1000 })).versions;
      expect(listed.filter((v) => v.isLatest).map((v) => v.meta.deleteMarker)).toEqual([true, true, true]);
      await Promise.all(listed.map((v, i) => stores[i % 3]!.deleteObject('b', v.meta.key, v.meta.versionId)));
      expect(await refs()).toEqual([]);
      expect(await stores[0]!.bucketHasObjects('b')).toBe(false);
    } finally {
      await db.end();
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 60_000);

  it('the lifecycle sweep runs on one node at a time; two nodes sweeping at once expire each version once', async () => {
    const { stores, url } = await freshPg(2);
    const [a, b] = stores as [PgStore, PgStore];
    await a.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    await a.setBucketConfig('b', 'versioning', 'Enabled');
    await a.setBucketConfig('b', 'lifecycle', JSON.stringify({ rules: [{ id: 'r', status: 'Enabled', expiration: { days: 1 }, noncurrentExpiration: { noncurrentDays: 30 } }] }));
    for (let k = 0; k < 5; k++) await a.putObject(put('b', `k${k}`, `v${k}`));
    const later = Date.now() + 3 * DAY_MS;
    // Another node holds the sweep: this one skips its round.
    const other = new pg.Client(url);
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1)', [0x0ff11fe]);
    expect(await b.lifecycle.sweep(later)).toBe(0);
    await other.query('SELECT pg_advisory_unlock($1)', [0x0ff11fe]);
    await other.end();
    // Both sweep at once: five markers in all, not ten.
    const [x, y] = await Promise.all([a.lifecycle.sweep(later), b.lifecycle.sweep(later)]);
    expect(x + y).toBe(5);
    expect(await a.lifecycle.sweep(later)).toBe(0);
    await b.refresh();
    const listed = (await b.listObjectVersions!({ bucket: 'b', maxKeys: 100 })).versions;
    expect(listed.map((v) => [v.meta.key, v.isLatest, v.meta.deleteMarker ?? false])).toEqual(['k0', 'k1', 'k2', 'k3', 'k4'].flatMap((k) => [[k, true, true], [k, false, false]]));
    // What is not yet due stays.
    await b.putObject(put('b', 'fresh', 'new'));
    await a.refresh();
    expect(await b.lifecycle.sweep(Date.now())).toBe(0);
    expect((await a.headObject('b', 'fresh'))?.size).toBe(3);
    await Promise.all(stores.map((s) => s.close()));
  }, 60_000);

  it('offload migrate copies a versioned bucket with its whole history, SQLite to PostgreSQL and back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offload-pgv-mig-'));
    const backDir = mkdtempSync(join(tmpdir(), 'offload-pgv-back-'));
    dirs.push(dataDir, backDir);
    const sqlite = await openStore(dataDir, { minFreeSpace: { bytes: 0 } });
    await sqlite.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    await sqlite.putObject(put('b', 'legacy', 'from before versioning'));
    await sqlite.putObject(put('b', 'gone', 'deleted later'));
    await sqlite.setBucketConfig('b', 'versioning', 'Enabled');
    for (let i = 0; i < 3; i++) await sqlite.putObject(put('b', 'legacy', `v${i}`));
    await sqlite.deleteObject('b', 'gone');
    await sqlite.setBucketConfig('b', 'versioning', 'Suspended');
    await sqlite.putObject(put('b', 'susp', 'null while suspended'));
    await sqlite.setBucketConfig('b', 'versioning', 'Enabled');
    await sqlite.putObject(put('b', 'susp', 'after'));
    const { stores: [pgStore] } = await freshPg();
    await copyStore(sqlite, pgStore!);
    const shapes = [{ maxKeys: 1000 }, { maxKeys: 2 }];
    for (const query of shapes) expect(await listAll(pgStore!, query)).toEqual(await listAll(sqlite, query));
    expect(pgStore!.getBucketConfig('b', 'versioning')).toBe('Enabled');
    const back = await openStore(backDir, { minFreeSpace: { bytes: 0 } });
    await copyStore(pgStore!, back);
    for (const query of shapes) expect(await listAll(back, query)).toEqual(await listAll(sqlite, query));
    expect(await back.versionUsage!('b')).toEqual(await sqlite.versionUsage!('b'));
    await Promise.all([sqlite.close(), pgStore!.close(), back.close()]);
  }, 60_000);

  it('over 100,000 versions a ListObjectVersions page and the sweep\'s queries read an index from their position, without a sort', async () => {
    const { stores: [store], url } = await freshPg();
    await store!.createBucket({ name: 'big', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    const db = new pg.Client(url);
    await db.connect();
    try {
      // 10,000 keys of 10 versions each (the newest current), a marker on top of every 7th key.
      await db.query(`INSERT INTO objects (bucket, key, version_id, is_current, revision, meta, seq, marker, since, modified)
        SELECT 'big', 'k' || lpad((i / 10)::text, 5, '0'), 'v' || i, i % 10 = 9 AND (i / 10) % 7 <> 0, i,
          jsonb_build_object('size', 1, 'etag', '"e"', 'lastModified', 1000 + i, 'owner', 'o', 'acl', '{"canned":"private"}'::jsonb, 'tags', '{}'::jsonb, 'userMeta', '{}'::jsonb, 'segments', '[]'::jsonb, 'versionId', 'v' || i, 'seq', i),
          i, i % 10 = 9 AND (i / 10) % 7 = 0, CASE WHEN i % 10 <> 9 OR (i / 10) % 7 = 0 THEN 1000 + i END, 1000 + i
        FROM generate_series(0, 99999) i`);
      await db.query('ANALYZE objects');
      const plans: Record<string, [string, unknown[]]> = {
        page: [VERSION_PAGE, ['big', 'k05000', 'k0', '55005', 101]],
        dueCurrent: [DUE_CURRENT, ['big', 50_000, 40_000, 'k03000']],
        dueNoncurrent: [DUE_NONCURRENT, ['big', 50_000, 40_000, 'k03000', 30_000]],
        markers: [MARKERS, ['big', Number.MAX_SAFE_INTEGER, 40_000, 'k03000', 30_000]],
      };
      for (const [name, [text, params]] of Object.entries(plans)) {
        await db.query(`PREPARE q_${name} AS ${text}`);
        const plan = (await db.query(`EXPLAIN EXECUTE q_${name}(${params.map((p) => (typeof p === 'number' ? String(p) : `'${String(p)}'`)).join(', ')})`)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        expect(plan, name).toMatch(/Index (Only )?Scan/);
        expect(plan, name).not.toMatch(/Sort|Seq Scan/);
      }
      await store!.refresh();
      const before = store!.db.roundTrips;
      const page = await store!.listObjectVersions!({ bucket: 'big', keyMarker: 'k05000', versionIdMarker: 'v50005', maxKeys: 6 });
      expect(store!.db.roundTrips - before).toBe(2);
      expect(page.versions.map((v) => [v.meta.key, v.meta.versionId, v.isLatest])).toEqual([
        ['k05000', 'v50004', false], ['k05000', 'v50003', false], ['k05000', 'v50002', false], ['k05000', 'v50001', false], ['k05000', 'v50000', false], ['k05001', 'v50019', true],
      ]);
      expect(page.nextVersionIdMarker).toBe('v50019');
    } finally {
      await db.end();
      await store!.close();
    }
  }, 120_000);

  it('the same lifecycle rules expire the same versions, markers and uploads on the embedded engine and on PgStore', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offload-pgv-lc-'));
    dirs.push(dataDir);
    const sqlite = (await openStore(dataDir, { minFreeSpace: { bytes: 0 } })) as Engine;
    const { stores: [pgStore] } = await freshPg();
    const rules = [
      { id: 'logs', status: 'Enabled', filter: { prefix: 'logs/' }, expiration: { days: 1 } },
      { id: 'temp', status: 'Enabled', filter: { tags: { temp: 'yes' } }, noncurrentExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 1 } },
      { id: 'dated', status: 'Enabled', filter: { prefix: 'dated/' }, expiration: { date: '2001-01-01T00:00:00.000Z' } },
      { id: 'markers', status: 'Enabled', filter: { prefix: 'm/' }, expiration: { expiredObjectDeleteMarker: true } },
      { id: 'uploads', status: 'Enabled', filter: { prefix: 'up/' }, abortIncompleteMultipartUploadDays: 1 },
      { id: 'off', status: 'Disabled', filter: { prefix: 'keep/' }, expiration: { days: 1 } },
    ];
    const uploads: Record<string, string> = {};
    for (const [name, s] of [['sqlite', sqlite], ['pg', pgStore!]] as const) {
      await s.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
      await s.setBucketConfig('b', 'versioning', 'Enabled');
      await s.setBucketConfig('b', 'lifecycle', JSON.stringify({ rules }));
      for (let v = 0; v < 2; v++) await s.putObject(put('b', 'logs/a', `log${v}`));
      for (let v = 0; v < 4; v++) await s.putObject(put('b', 't/x', `x${v}`, { tags: { temp: 'yes' } }));
      for (let v = 0; v < 3; v++) await s.putObject(put('b', 't/y', `y${v}`));
      await s.putObject(put('b', 'dated/z', 'z'));
      await s.putObject(put('b', 'keep/k', 'k'));
      const doomed = await s.putObject(put('b', 'm/k', 'm'));
      await s.deleteObject('b', 'm/k');
      await s.deleteObject('b', 'm/k', doomed.versionId);
      await s.deleteObject('b', 'm/other');
      await s.putObject(put('b', 'm/other', 'back'));
      uploads[name] = (await s.createMultipartUpload({ bucket: 'b', key: 'up/big', owner: 'o', headers: { userMeta: {} }, acl: { canned: 'private' }, tags: {} })).uploadId;
      await s.createMultipartUpload({ bucket: 'b', key: 'other/big', owner: 'o', headers: { userMeta: {} }, acl: { canned: 'private' }, tags: {} });
    }
    const later = Date.now() + 3 * DAY_MS;
    const removed = [await sqlite.lifecycle.sweep(later), await pgStore!.lifecycle.sweep(later)];
    expect(removed[1]).toBe(removed[0]);
    // logs/a: 1 marker over 2 versions (+0 removed); t/x: 2 oldest noncurrent; dated/z: 1 marker; m/k: its lone marker; up/big.
    expect(removed[0]).toBe(6);
    await pgStore!.refresh();
    for (const query of [{ maxKeys: 1000 }, { maxKeys: 3, delimiter: '/' }]) expect(await listAll(pgStore!, query)).toEqual(await listAll(sqlite, query));
    const left = await Promise.all([sqlite, pgStore!].map(async (s) => (await s.listMultipartUploads('b', { maxUploads: 10 })).uploads.map((u) => u.key)));
    expect(left[1]).toEqual(left[0]);
    expect(left[0]).toEqual(['other/big']);
    expect(await pgStore!.getMultipartUpload('b', uploads.pg!)).toBeUndefined();
    // A second sweep finds nothing more on either.
    expect([await sqlite.lifecycle.sweep(later), await pgStore!.lifecycle.sweep(later)]).toEqual([0, 0]);
    await Promise.all([sqlite.close(), pgStore!.close()]);
  }, 60_000);

  it('concurrent PUTs into an Enabled bucket still share commits (group commit): fewer statements than puts, every one a version', async () => {
    const { stores: [store] } = await freshPg();
    await store!.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    await store!.setBucketConfig('b', 'versioning', 'Enabled');
    // Each key's latest version a marker: no current row to lock, the writers queue on the key's advisory lock.
    for (let k = 0; k < 7; k++) await store!.deleteObject('b', `k${k}`);
    const before = store!.db.roundTrips;
    const written = await Promise.all(Array.from({ length: 200 }, (_, i) => store!.putObject(put('b', `k${i % 7}`, `v${i}`))));
    expect(store!.db.roundTrips - before).toBeLessThan(100);
    expect(new Set(written.map((m) => `${m.key}/${m.versionId}`)).size).toBe(200);
    const listed = (await store!.listObjectVersions!({ bucket: 'b', maxKeys: 1000 })).versions;
    expect(listed).toHaveLength(207);
    expect(listed.filter((v) => v.isLatest).map((v) => v.meta.deleteMarker ?? false)).toEqual(Array(7).fill(false));
    await store!.close();
  }, 60_000);
});
