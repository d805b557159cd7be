/**
 * Monthly transfer budgets are persisted and shared: with overBudget refuse-anonymous, a spent
 * budget still refuses anonymous reads after a restart (the count continues), and two --meta
 * nodes reach the budget together (each counting its own would not).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';

const BUDGET = { monthlyTransfer: 2500, overBudget: 'refuse-anonymous' };

async function admin(server: TestServer, method: string, path: string, body?: string) {
  return rawRequest(server, toHttp(await signRequest(server, { method, path, body, headers: body ? { 'content-type': 'application/json' } : {} })));
}

/** A bucket with one public 1000-byte object and a 2500-byte monthly budget. */
async function budgetedBucket(server: TestServer): Promise<void> {
  const s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'budget' }));
  await s3.send(new PutObjectCommand({ Bucket: 'budget', Key: 'k.bin', Body: Buffer.alloc(1000, 7), ACL: 'public-read' }));
  s3.destroy();
  expect((await admin(server, 'PUT', '/_offload/buckets/budget/limits', JSON.stringify(BUDGET))).status).toBe(200);
}

const anonymousGet = async (server: TestServer) => {
  const res = await fetch(`${server.endpoint}/budget/k.bin`);
  return { status: res.status, body: await res.text() };
};

async function transferMetric(server: TestServer): Promise<number> {
  const text = (await admin(server, 'GET', '/_offload/metrics')).body;
  return Number(/offload_bucket_transfer_month_bytes\{bucket="budget"\} (\d+)/.exec(text)?.[1]);
}

const settle = () => new Promise((r) => setTimeout(r, 2500));

describe('monthly transfer budget across a restart', () => {
  let server: TestServer | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses anonymous reads after a restart once spent, and the count continues', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offload-transfer-'));
    server = await startServer({ dataDir });
    await budgetedBucket(server);
    for (let i = 0; i < 3; i++) expect((await anonymousGet(server)).status).toBe(200);
    const refused = await anonymousGet(server);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('<Code>AccessDenied</Code>');
    expect(await transferMetric(server)).toBe(3000);
    await server.stop();

    server = await startServer({ dataDir });
    expect((await anonymousGet(server)).status).toBe(403);
    expect(await transferMetric(server)).toBe(3000);
    // Signed reads are not refused (refuse-anonymous), and still count.
    const s3 = sdkClient(server);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'budget', Key: 'k.bin' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(1000);
    s3.destroy();
    expect(await transferMetric(server)).toBe(4000);
    // `offload stats` shows the same count against the budget, in text and JSON.
    const env = { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region };
    const stats = spawnSync(process.execPath, [CLI, 'stats', 's3://budget'], { encoding: 'utf8', env });
    expect(stats.stderr).toBe('');
    expect(stats.stdout).toContain('transfer this month: 4000 of 2500 bytes (160%)');
    const json = spawnSync(process.execPath, [CLI, 'stats', 's3://budget', '--json'], { encoding: 'utf8', env });
    expect((JSON.parse(json.stdout) as { transferThisMonth?: number }).transferThisMonth).toBe(4000);
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  }, 60_000);
});

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('monthly transfer budget across two --meta nodes', () => {
  let pg: TestPostgres;
  let dataDir: string;
  let nodes: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await pg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is reached by the two nodes together, and both then refuse anonymous reads', async () => {
    pg = await startPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'offload-transfer-pg-'));
    nodes = await Promise.all([0, 1].map(() => startServer({ dataDir, args: ['--meta', pg.url] })));
    const [a, b] = nodes as [TestServer, TestServer];
    await budgetedBucket(a);
    await settle();
    for (let i = 0; i < 2; i++) expect((await anonymousGet(a)).status).toBe(200);
    expect((await anonymousGet(b)).status).toBe(200);
    // Each node alone has sent less than the budget; together 3000 bytes.
    await settle();
    expect((await anonymousGet(a)).status).toBe(403);
    expect((await anonymousGet(b)).status).toBe(403);
    expect(await transferMetric(a)).toBe(3000);
    expect(await transferMetric(b)).toBe(3000);
    for (const n of nodes) expect((await fetch(`${n.endpoint}/_offload/health`)).status).toBe(200);
  }, 120_000);
});
