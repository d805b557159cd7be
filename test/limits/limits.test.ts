/**
 * Rate limits, quotas and the metrics token against the real server: a key over its limit gets
 * 503 SlowDown with Retry-After while another key and anonymous readers of another bucket are
 * unaffected; the AWS SDK's retry gets through once under the limit; 16 writers racing a quota's
 * last bytes never exceed it; /_offload/metrics takes a bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';

const OTHER = { accessKeyId: 'OFFLOADLIMITSOTHER01', secretAccessKey: 'offload-limits-other-secret-0123456789' };

async function status(p: Promise<unknown>): Promise<{ status: number; code?: string; retryAfter?: string }> {
  try {
    await p;
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof S3ServiceException)) throw err;
    const headers = (err.$response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
    return { status: err.$metadata.httpStatusCode ?? 0, code: err.name, retryAfter: headers['retry-after'] };
  }
}

/** The SDK's standard retry, which backs off on 503 SlowDown. */
function patient(server: TestServer): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: server.region, forcePathStyle: true, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, maxAttempts: 8 });
}

async function admin(server: TestServer, method: string, path: string, body?: string) {
  return rawRequest(server, toHttp(await signRequest(server, { method, path, body, headers: body ? { 'content-type': 'application/json' } : {} })));
}

describe('rate limits', () => {
  let server: TestServer;
  let root: S3Client;

  beforeAll(async () => {
    server = await startServer({ args: ['--rate-limit-rps', '3'] });
    root = sdkClient(server);
    const setup = patient(server);
    spawnSync(process.execPath, [CLI, 'keys', 'create', 'other', '--access-key', OTHER.accessKeyId, '--secret-key', OTHER.secretAccessKey, '--data', server.dataDir]);
    for (const b of ['pub-a', 'pub-b']) {
      await setup.send(new CreateBucketCommand({ Bucket: b }));
      await setup.send(new PutObjectCommand({ Bucket: b, Key: 'x.txt', Body: 'public', ACL: 'public-read' }));
    }
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(async () => server?.stop());

  it('answers a key over its limit 503 SlowDown with Retry-After, at once; another key is unaffected', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => status(root.send(new HeadBucketCommand({ Bucket: 'pub-a' })))));
    const refused = results.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(4);
    // HEAD answers carry no body: the code is the SDK's name for a 503; the raw answer shows it.
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    const raw = await rawRequest(server, toHttp(await signRequest(server, { method: 'GET', path: '/pub-a', query: { 'list-type': '2' } })));
    expect(raw.status).toBe(503);
    expect(raw.body).toContain('<Code>SlowDown</Code>');
    expect(Number(raw.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const other = sdkClient(server, { credentials: OTHER });
    expect((await status(other.send(new CreateBucketCommand({ Bucket: 'other-own' })))).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await status(other.send(new ListObjectsV2Command({ Bucket: 'other-own' })))).status).toBe(200);
    // Anonymous readers have no limit here.
    for (let i = 0; i < 5; i++) expect((await fetch(`${server.endpoint}/pub-b/x.txt`)).status).toBe(200);
  });

  it("the AWS SDK's retry gets through once under the limit", async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const client = patient(server);
    const results = await Promise.all(Array.from({ length: 8 }, () => status(client.send(new HeadBucketCommand({ Bucket: 'pub-a' })))));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });

  it('per-bucket anonymous limits (admin API and `offload bucket limits`) leave other buckets alone', async () => {
    const set = spawnSync(process.execPath, [CLI, 'bucket', 'limits', 's3://pub-a', '--anonymous-rps', '2', '--json'], { encoding: 'utf8', env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region } });
    expect(set.stderr).toBe('');
    expect(JSON.parse(set.stdout)).toEqual({ bucket: 'pub-a', limits: { anonymousRps: 2 } });
    const a = await Promise.all(Array.from({ length: 8 }, () => fetch(`${server.endpoint}/pub-a/x.txt`).then((r) => ({ status: r.status, retryAfter: r.headers.get('retry-after') }))));
    expect(a.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    expect(a.find((r) => r.status === 503)!.retryAfter).toMatch(/^\d+$/);
    const b = await Promise.all(Array.from({ length: 8 }, () => fetch(`${server.endpoint}/pub-b/x.txt`).then((r) => r.status)));
    expect(b.every((s) => s === 200)).toBe(true);
    const got = await admin(server, 'GET', '/_offload/buckets/pub-a/limits');
    expect(JSON.parse(got.body)).toEqual({ bucket: 'pub-a', limits: { anonymousRps: 2 } });
    expect((await admin(server, 'PUT', '/_offload/buckets/pub-a/limits', '{"rps": -1}')).status).toBe(400);
    const stats = spawnSync(process.execPath, [CLI, 'stats', 's3://pub-a', '--json'], { encoding: 'utf8', env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region } });
    expect(stats.stderr).toBe('');
    expect((JSON.parse(stats.stdout) as { limits?: unknown }).limits).toEqual({ anonymousRps: 2 });
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});

describe('quotas', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.stop());

  it('16 parallel writers racing the last bytes never take the bucket past its quota', async () => {
    const s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'quota' }));
    for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: 'quota', Key: `seed-${i}`, Body: Buffer.alloc(1000) }));
    expect((await admin(server, 'PUT', '/_offload/buckets/quota/limits', JSON.stringify({ maxBytes: 10_000, maxObjects: 50 }))).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => status(s3.send(new PutObjectCommand({ Bucket: 'quota', Key: `race-${i}`, Body: Buffer.alloc(1000, i) })))));
    expect(results.filter((r) => r.status === 200).length).toBe(5);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.every((r) => r.status === 403 && r.code === 'XOffloadQuotaExceeded')).toBe(true);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'quota' }));
    expect((listed.Contents ?? []).reduce((n, o) => n + (o.Size ?? 0), 0)).toBe(10_000);
    // An overwrite that does not grow the bucket still fits; the object quota counts too.
    expect((await status(s3.send(new PutObjectCommand({ Bucket: 'quota', Key: 'seed-0', Body: Buffer.alloc(500) })))).status).toBe(200);
    await admin(server, 'PUT', '/_offload/buckets/quota/limits', JSON.stringify({ maxObjects: 10 }));
    expect(await status(s3.send(new PutObjectCommand({ Bucket: 'quota', Key: 'one-more', Body: 'x' })))).toMatchObject({ status: 403, code: 'XOffloadQuotaExceeded' });
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});

describe('metrics bearer token', () => {
  const token = 'metrics-token-0123456789abcdef';
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ args: ['--metrics-token', token, '--anonymous-rps', '1000'] });
  });
  afterAll(async () => server?.stop());

  it('lets a scraper with the token read /_offload/metrics, and no one else without a signature', async () => {
    const ok = await fetch(`${server.endpoint}/_offload/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toContain('offload_throttled_requests_total{reason="anonymous_rps"} 0');
    const wrong = await fetch(`${server.endpoint}/_offload/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('<Code>AccessDenied</Code>');
    expect((await fetch(`${server.endpoint}/_offload/metrics`)).status).toBe(403);
    // Root signatures still work.
    expect((await admin(server, 'GET', '/_offload/metrics')).status).toBe(200);
  });

  it('refuses to start with a metrics token shorter than 16 characters', async () => {
    await expect(startServer({ args: ['--metrics-token', 'short'] })).rejects.toThrow(/at least 16 characters/);
  });
});
