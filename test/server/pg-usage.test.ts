/**
 * Usage stats and metrics with `--meta postgres://...`: two nodes, each with its own data folder
 * (the blobs in one shared folder), count into the same PostgreSQL rows. Anonymous GETs spread
 * over both nodes give the exact total in /_offload/stats/<bucket> and /_offload/metrics read
 * from either node; what the bucket stores now comes from the shared objects table.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { fetchStats, signedGet } from '../../src/cli/commands/stats.js';

// Each node writes its counts every ~2 s; a node answering stats first writes its own.
const FLUSH_WAIT_MS = 2600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('usage stats of two --meta nodes', () => {
  let pg: TestPostgres;
  let blobDir: string;
  let nodes: TestServer[] = [];
  let s3: S3Client;
  const conn = (n: TestServer) => ({ endpoint: n.endpoint, region: n.region, accessKeyId: n.accessKeyId, secretAccessKey: n.secretAccessKey });

  beforeAll(async () => {
    pg = await startPostgres();
    blobDir = mkdtempSync(join(tmpdir(), 'offload-pg-usage-blobs-'));
    nodes = await Promise.all([0, 1].map(() => startServer({ args: ['--meta', pg.url, '--blobs', blobDir, '--no-console'] })));
    s3 = sdkClient(nodes[0]!);
    await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
    await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'pics/cat.jpg', Body: Buffer.alloc(1000, 7), ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'other.txt', Body: 'abc' }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await pg?.stop();
    if (blobDir) rmSync(blobDir, { recursive: true, force: true });
  });

  it('counts anonymous GETs spread over both nodes exactly, read from either node', async () => {
    // 7 through A, 5 through B, some of them at once.
    const gets = [...Array(12).keys()].map((i) => fetch(`${nodes[i < 7 ? 0 : 1]!.endpoint}/shared/pics/cat.jpg`, { headers: { referer: 'https://blog.example/post' } }));
    for (const res of await Promise.all(gets)) {
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(1000);
    }
    await sleep(FLUSH_WAIT_MS);
    for (const node of nodes) {
      const r = await fetchStats({ ...conn(node), bucket: 'shared', query: {} });
      const cat = r.topByRequests.find((f) => f.key === 'pics/cat.jpg');
      // 12 anonymous GETs and its signed PUT through A.
      expect(cat).toMatchObject({ requests: 13, bytesOut: 12_000, bytesIn: 1000, anonymous: 12, signed: 1, s2xx: 13, gets: 12, puts: 1 });
      // With the PUT of other.txt.
      expect(r.totals).toMatchObject({ requests: 14, anonymous: 12, signed: 2, puts: 2, gets: 12, bytesIn: 1003, bytesOut: 12_000 });
      expect(r.referrers).toEqual([{ host: 'blog.example', requests: 12 }]);
      expect(r.perDay.reduce((n, d) => n + d.requests, 0)).toBe(14);
      // What is stored now: the shared objects table, not a node's data folder.
      expect(r.stored).toEqual({ objects: 2, bytes: 1003, noncurrentVersions: 0, noncurrentBytes: 0, deleteMarkers: 0 });
      const prefixed = await fetchStats({ ...conn(node), bucket: 'shared', query: { prefix: 'pics/' } });
      expect(prefixed.totals.requests).toBe(13);
      expect(prefixed.stored).toMatchObject({ objects: 1, bytes: 1000 });
    }
  });

  it('/_offload/metrics on either node counts the requests of both', async () => {
    await sleep(FLUSH_WAIT_MS);
    const before = await Promise.all(nodes.map(async (n) => getObjectCount(await metricsText(n))));
    expect(before[0]).toBe(before[1]);
    for (let i = 0; i < 4; i++) expect((await fetch(`${nodes[i % 2]!.endpoint}/shared/pics/cat.jpg`)).status).toBe(200);
    await sleep(FLUSH_WAIT_MS);
    for (const node of nodes) {
      const text = await metricsText(node);
      expect(getObjectCount(text)).toBe(before[0]! + 4);
      expect(text).toContain('offload_bucket_objects{bucket="shared"} 2');
      expect(text).toContain('offload_bucket_bytes{bucket="shared"} 1003');
      expect(text).toMatch(/offload_request_duration_seconds_count\{op="GetObject"\} \d+/);
    }
    // The counts are in PostgreSQL, not in the nodes' data folders.
    for (const node of nodes) expect(existsSync(join(node.dataDir, 'meta.db'))).toBe(false);
  });

  it('keeps the counts a node could not write while PostgreSQL was down, and writes them once it is back', async () => {
    const a = nodes[0]!;
    await sleep(FLUSH_WAIT_MS);
    const before = (await fetchStats({ ...conn(a), bucket: 'shared', query: {} })).topByRequests.find((f) => f.key === 'pics/cat.jpg')!;
    const unavailableBefore = statusCount(await metricsText(a), 503);
    for (let i = 0; i < 3; i++) expect((await fetch(`${a.endpoint}/shared/pics/cat.jpg`)).status).toBe(200);
    pg.halt();
    let failed = 0;
    try {
      // Answered 503 while the database is away, and counted all the same.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${a.endpoint}/shared/pics/cat.jpg`);
        if (res.status === 503) failed++;
        else expect(res.status).toBe(200);
      }
      await sleep(FLUSH_WAIT_MS + 500);
    } finally {
      pg.resume();
    }
    expect(a.output()).toContain('usage stats flush failed');
    await sleep(FLUSH_WAIT_MS);
    let after;
    for (let attempt = 0; ; attempt++) {
      const res = await signedGet(conn(a), '/_offload/stats/shared');
      // The first request after the restart may meet a connection the server closed.
      if (res.status === 503 && attempt < 5) continue;
      expect(res.status).toBe(200);
      after = ((await res.json()) as { topByRequests: { key: string; requests: number; s2xx: number; s5xx: number }[] }).topByRequests.find((f) => f.key === 'pics/cat.jpg')!;
      break;
    }
    // The 3 GETs made before the outage, whose flush failed, are there; and any GET answered
    // while the database was up.
    expect(after.s2xx).toBe(before.s2xx + 5 - failed);
    // A 503 answered before the request's key was known counts in the metrics (by status) only.
    expect(statusCount(await metricsText(a), 503)).toBe(unavailableBefore + failed);
  }, 30_000);

  it('refuses unsigned and malformed stats requests on a --meta node, and stays up', async () => {
    const node = nodes[1]!;
    expect((await fetch(`${node.endpoint}/_offload/stats/shared`)).status).toBe(403);
    expect((await signedGet(conn(node), '/_offload/stats/no-such-bucket')).status).toBe(404);
    const bad = await signedGet(conn(node), '/_offload/stats/shared', { since: 'forever' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('<Code>InvalidArgument</Code>');
    expect((await fetch(`${node.endpoint}/_offload/health`)).status).toBe(200);
  });
});

async function metricsText(node: TestServer): Promise<string> {
  const res = await signedGet({ endpoint: node.endpoint, region: node.region, accessKeyId: node.accessKeyId, secretAccessKey: node.secretAccessKey }, '/_offload/metrics');
  expect(res.status).toBe(200);
  return res.text();
}

function statusCount(text: string, status: number): number {
  return [...text.matchAll(new RegExp(`^offload_requests_total\\{op="[^"]*",status="${status}"\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

function getObjectCount(text: string): number {
  return [...text.matchAll(/^offload_requests_total\{op="GetObject",status="200"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}
