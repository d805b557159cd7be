/**
 * A data folder from before quotas were kept by the metadata database (schema version 1, a
 * 'limits' document already set): the server's start migrates it, counting the usage of the
 * quotas already set, and enforces them from the first write. A bucket deleted with its quota
 * leaves nothing behind for a new bucket of the same name.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { outcome, quotaUse, setLimits } from './quota-scenarios.js';

describe('bucket quotas on a data folder from an older version', () => {
  let server: TestServer | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts the usage of quotas set before, at start, and enforces them', async () => {
    const first = await startServer();
    dataDir = first.dataDir;
    const s3 = sdkClient(first);
    await s3.send(new CreateBucketCommand({ Bucket: 'old' }));
    for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket: 'old', Key: `k${i}`, Body: Buffer.alloc(1000) }));
    await setLimits(first, 'old', { maxBytes: 3500, rps: 100 });
    s3.destroy();
    await first.stop({ keepData: true });
    // What an older Offload left: no quota table, no triggers, schema version 1.
    const db = new Database(join(first.dataDir, 'meta.db'));
    for (const { name } of db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'quota_%'").all()) db.exec(`DROP TRIGGER ${name}`);
    db.exec('DROP TABLE bucket_quota');
    db.pragma('user_version = 1');
    db.close();

    server = await startServer({ dataDir: first.dataDir });
    const again = sdkClient(server);
    expect(await quotaUse(server, 'old')).toEqual({ bytes: 3000, objects: 3 });
    expect(await outcome(again.send(new PutObjectCommand({ Bucket: 'old', Key: 'big', Body: Buffer.alloc(501) })))).toMatchObject({ status: 403, code: 'XOffloadQuotaExceeded', message: 'The write would take the bucket past its quota of 3500 bytes (3000 stored).' });
    expect(await outcome(again.send(new PutObjectCommand({ Bucket: 'old', Key: 'fits', Body: Buffer.alloc(500) })))).toEqual({ status: 200 });

    // Deleted with its bucket: a new bucket of the same name starts without a quota.
    for (const key of ['k0', 'k1', 'k2', 'fits']) await again.send(new DeleteObjectCommand({ Bucket: 'old', Key: key }));
    await again.send(new DeleteBucketCommand({ Bucket: 'old' }));
    await again.send(new CreateBucketCommand({ Bucket: 'old' }));
    expect(await quotaUse(server, 'old')).toBeUndefined();
    expect(await outcome(again.send(new PutObjectCommand({ Bucket: 'old', Key: 'big', Body: Buffer.alloc(5000) })))).toEqual({ status: 200 });
    again.destroy();
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});
