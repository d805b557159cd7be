/**
 * The in-memory cache of small objects never serves stale or mixed bytes: GETs hammer a key
 * (through every worker) while PUTs replace it, and every body must be one whole version; after
 * the last PUT is acknowledged, every GET sees it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'hot-cache';

beforeAll(async () => {
  server = await startServer({ args: ['--workers', '2'] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const version = (n: number) => Buffer.alloc(8192 + n * 17, String.fromCharCode(65 + (n % 26)));

it('serves only whole versions under concurrent overwrite, and the newest once acknowledged', async () => {
  const versions = new Map<string, number>();
  for (let n = 0; n < 20; n++) versions.set(version(n).toString(), n);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hot.txt', Body: version(0), ACL: 'public-read' }));
  let writing = true;
  let reads = 0;
  const readers = Array.from({ length: 8 }, async () => {
    while (writing) {
      const res = await fetch(`${server.endpoint}/${bucket}/hot.txt`);
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(versions.has(body)).toBe(true);
      expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
      reads++;
    }
  });
  for (let n = 1; n < 20; n++) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hot.txt', Body: version(n), ACL: 'public-read' }));
    // Acknowledged: from now on no worker may serve an older version.
    for (let i = 0; i < 4; i++) {
      const body = await (await fetch(`${server.endpoint}/${bucket}/hot.txt`)).text();
      expect(versions.get(body)).toBe(n);
    }
  }
  writing = false;
  await Promise.all(readers);
  expect(reads).toBeGreaterThan(20);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'hot.txt' }));
  for (let i = 0; i < 4; i++) expect((await fetch(`${server.endpoint}/${bucket}/hot.txt`)).status).toBe(403);
});

/** Hot-cache hits counted by one server process (its metrics, read without a signature). */
async function cacheHits(s: TestServer): Promise<number> {
  const text = await (await fetch(`${s.endpoint}/_offload/metrics`)).text();
  return Number(/^offload_cache_hits_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

it('keeps objects up to 1 MiB by default, and nothing with --hot-cache 0', async () => {
  const body = Buffer.alloc(1024 * 1024, 7);
  for (const [args, expectHits] of [[[], true], [['--hot-cache', '0'], false]] as const) {
    const s = await startServer({ args: [...args], env: { OFFLOAD_METRICS_PUBLIC: '1' } });
    const client = sdkClient(s);
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'sized' }));
      await client.send(new PutObjectCommand({ Bucket: 'sized', Key: 'one-mib.bin', Body: body, ACL: 'public-read' }));
      const before = await cacheHits(s);
      for (let i = 0; i < 3; i++) expect(Buffer.from(await (await fetch(`${s.endpoint}/sized/one-mib.bin`)).arrayBuffer()).equals(body)).toBe(true);
      const hits = (await cacheHits(s)) - before;
      if (expectHits) expect(hits).toBeGreaterThanOrEqual(2);
      else expect(hits).toBe(0);
    } finally {
      client.destroy();
      await s.stop();
    }
  }
});
