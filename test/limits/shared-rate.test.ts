/**
 * Rate limits that hold across a deployment: a `--workers 2` server and two `--meta` nodes on one
 * PostgreSQL, a key limited to R requests/s hammered over many connections. Together the
 * processes admit about R a second (the shared-budget bound: R x seconds + N bursts + the others'
 * consumption during one sync lag, see s3/limits/shared-budget.ts), clearly less than the 2R a
 * second two independent limiters would; another key and anonymous readers of another bucket
 * are unaffected, and the AWS SDK's retry gets through once under the limit. The throttled
 * counter in /_offload/metrics counts every process's refusals.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { hammer } from './hammer.js';

const RATE = 20;
const HAMMER = { accessKeyId: 'OFFLOADSHAREDHAMMER1', secretAccessKey: 'offload-shared-hammer-secret-0123456789' };
const OTHER = { accessKeyId: 'OFFLOADSHAREDOTHER01', secretAccessKey: 'offload-shared-other-secret-012345678' };
/** Seconds of sync lag the bound allows (the scheme's is ~2 x 100 ms plus a statement; doubled for a loaded machine). */
const LAG = 0.5;

function createKeys(where: string[]): void {
  for (const [name, k] of [['hammer', HAMMER], ['other', OTHER]] as const) {
    const made = spawnSync(process.execPath, [CLI, 'keys', 'create', name, '--access-key', k.accessKeyId, '--secret-key', k.secretAccessKey, ...where], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
  }
}

function patient(server: TestServer, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: server.region, forcePathStyle: true, credentials, maxAttempts: 10 });
}

async function setUp(nodes: TestServer[]): Promise<void> {
  const root = patient(nodes[0]!, { accessKeyId: nodes[0]!.accessKeyId, secretAccessKey: nodes[0]!.secretAccessKey });
  for (const b of ['hammered', 'public']) {
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'x.txt', Body: 'public', ACL: 'public-read' }));
  }
  root.destroy();
  // Whatever the set-up spent has refilled.
  await new Promise((r) => setTimeout(r, 1500));
}

/** R rps hammered through every node: admitted within the bound, unaffected neighbours, SDK retry. */
async function checkSharedLimit(nodes: TestServer[]): Promise<void> {
  const signed = await signRequest({ ...nodes[0]!, ...HAMMER }, { method: 'GET', path: '/hammered/x.txt' });
  const request = toHttp(signed);
  // Anonymous readers of another bucket and another key, while the hammer runs.
  const neighbours = (async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const statuses: number[] = [];
    for (const node of nodes) {
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${node.endpoint}/public/x.txt`)).status);
      const other = sdkClient(node, { credentials: OTHER });
      await other.send(new GetObjectCommand({ Bucket: 'public', Key: 'x.txt' })).then(() => statuses.push(200), (err: { $metadata?: { httpStatusCode?: number } }) => statuses.push(err.$metadata?.httpStatusCode ?? 0));
      other.destroy();
    }
    return statuses;
  })();
  const result = await hammer(nodes.map((server) => ({ server, request })), { seconds: 5, loops: 12 });
  const admitted = result.byStatus.get(200) ?? 0;
  const refused = result.byStatus.get(503) ?? 0;
  const n = nodes.length > 1 ? nodes.length : 2;
  const bound = RATE * (result.seconds + n + (n - 1) * LAG);
  console.log(`shared limit ${RATE} rps over ${result.seconds.toFixed(2)} s through ${nodes.length} node(s): ${admitted} admitted, ${refused} refused; bound ${bound.toFixed(0)}, independent limiters ~${(n * RATE * (result.seconds + 1)).toFixed(0)}`);
  expect([...result.byStatus.keys()].sort(), JSON.stringify([...result.byStatus])).toEqual([200, 503]);
  expect(refused).toBeGreaterThan(admitted);
  expect([...result.retryAfter].every((s) => Number(s) >= 1)).toBe(true);
  expect(admitted).toBeLessThanOrEqual(bound);
  expect(admitted).toBeLessThan(2 * RATE * result.seconds * 0.8);
  expect(admitted).toBeGreaterThanOrEqual(RATE * result.seconds * 0.6);
  expect(await neighbours).toEqual(Array(nodes.length * 4).fill(200));

  // Once the debt the lag left is paid, the SDK's retry gets 1.5 x R requests through.
  await new Promise((r) => setTimeout(r, 2500));
  // Every process's refusals, on every node's metrics (not the answering worker's own).
  for (const node of nodes) {
    const metrics = await rawRequest(node, toHttp(await signRequest(node, { method: 'GET', path: '/_offload/metrics' })));
    expect(metrics.status).toBe(200);
    expect(Number(/offload_throttled_requests_total\{reason="key_rps"\} (\d+)/.exec(metrics.body)?.[1])).toBe(refused);
  }
  const clients = nodes.map((node) => patient(node, HAMMER));
  const results = await Promise.all(Array.from({ length: RATE * 1.5 }, (_, i) => clients[i % clients.length]!.send(new GetObjectCommand({ Bucket: 'hammered', Key: 'x.txt' })).then(() => 200, (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode ?? 0)));
  for (const c of clients) c.destroy();
  expect(results).toEqual(Array(RATE * 1.5).fill(200));
  for (const node of nodes) expect((await fetch(`${node.endpoint}/_offload/health`)).status).toBe(200);
}

describe('a key limit across the workers of one server (--workers 2)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ args: ['--workers', '2', '--rate-limit-rps', String(RATE)] });
    createKeys(['--data', server.dataDir]);
    await setUp([server]);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('admits about R a second in total, not R per worker; neighbours unaffected; SDK retry succeeds', async () => {
    await checkSharedLimit([server]);
  }, 60_000);
});

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('a key limit across two --meta nodes on one PostgreSQL', () => {
  let pg: TestPostgres;
  let dataDir: string;
  let nodes: TestServer[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'offload-shared-rate-'));
    nodes = await Promise.all([0, 1].map(() => startServer({ dataDir, args: ['--meta', pg.url, '--rate-limit-rps', String(RATE)] })));
    createKeys(['--meta', pg.url]);
    await setUp(nodes);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await pg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('admits about R a second through both nodes together; neighbours unaffected; SDK retry succeeds', async () => {
    await checkSharedLimit(nodes);
  }, 60_000);
});
