/**
 * PostgreSQL group commit and quotas: a node that has not yet seen a bucket's new quota still
 * batches its puts into one statement (put-batch.ts); the quota trigger refusing one of them fails
 * that statement, and each put is then sent again alone, so that exactly the puts that fit are
 * committed and only the others are refused. A node that knows the quota sends them alone at once.
 * And the quota migration (entry 7) on a database that already had quotas set counts their usage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { S3Error } from '../../../src/errors/s3-error.js';
import { openPgStore, type PgStore } from '../../../src/storage/postgres/store.js';
import { QUOTA_MIGRATION } from '../../../src/storage/postgres/quota.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { missingPeer } from '../../helpers/require-peer.js';

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('quotas and the PostgreSQL group commit', () => {
  let server: TestPostgres | undefined;
  const stores: PgStore[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'offload-pg-quota-batch-'));
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one put refused by the quota never fails the others of its batch', async () => {
    server = await startPostgres();
    const url = await server.createDatabase('batch');
    const [a, b] = await Promise.all([openPgStore(url, { blobDir: dir }), openPgStore(url, { blobDir: dir })]);
    stores.push(a!, b!);
    await a!.createBucket({ name: 'q', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    await b!.refresh();
    // b's bucket state is from before the quota: its puts go to the database in one batch.
    await a!.setBucketConfig('q', 'limits', JSON.stringify({ maxBytes: 5000 }));
    expect(b!.getBucketConfig('q', 'limits')).toBeUndefined();
    const put = (i: number) => b!.putObject({ bucket: 'q', key: `k${i}`, body: Readable.from([Buffer.alloc(1000)]), owner: 'o', acl: { canned: 'private' }, userMeta: {} });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => put(i)));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(5);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as S3Error).code).toBe('XOffloadQuotaExceeded');
    expect(await a!.quotaUsage('q')).toEqual([{ bucket: 'q', bytes: 5000, objects: 5, maxBytes: 5000 }]);
    const listed = await a!.listObjects({ bucket: 'q', maxKeys: 100 });
    expect(listed.objects.length).toBe(5);
  });

  it('the quota migration on a database with quotas set before it counts their usage', async () => {
    const url = await server!.createDatabase('upgrade');
    const store = await openPgStore(url, { blobDir: dir });
    await store.createBucket({ name: 'old', owner: 'o', region: 'us-east-1', acl: { canned: 'private' } });
    for (let i = 0; i < 3; i++) await store.putObject({ bucket: 'old', key: `k${i}`, body: Readable.from([Buffer.alloc(700)]), owner: 'o', acl: { canned: 'private' }, userMeta: {} });
    await store.setBucketConfig('old', 'limits', JSON.stringify({ maxObjects: 4 }));
    await store.close();
    // The database as it was before the quota migration, with a quota already set.
    const client = new pg.Client(url);
    await client.connect();
    await client.query('DROP TRIGGER objects_quota ON objects; DROP TRIGGER bucket_configs_quota ON bucket_configs; DROP TABLE bucket_quota CASCADE');
    await client.query('DROP FUNCTION offload_quota_objects(), offload_quota_limits(), offload_quota_count(text, text)');
    // What the migrator runs as entry 7 (the quota migration, whatever its number on this branch).
    await client.query(QUOTA_MIGRATION);
    await client.end();
    const again = await openPgStore(url, { blobDir: dir });
    stores.push(again);
    expect(await again.quotaUsage()).toEqual([{ bucket: 'old', bytes: 2100, objects: 3, maxObjects: 4 }]);
    await again.putObject({ bucket: 'old', key: 'k3', body: Readable.from([Buffer.alloc(1)]), owner: 'o', acl: { canned: 'private' }, userMeta: {} });
    await expect(again.putObject({ bucket: 'old', key: 'k4', body: Readable.from([Buffer.alloc(1)]), owner: 'o', acl: { canned: 'private' }, userMeta: {} })).rejects.toMatchObject({ code: 'XOffloadQuotaExceeded' });
  });
});
