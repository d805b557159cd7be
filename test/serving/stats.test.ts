/**
 * Usage stats end to end: a known mix of requests against the real server (two workers, so
 * counts from both must add up), then /_offload/stats, the cost formula by hand, `offload stats`,
 * and the per-bucket access log.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetBucketLoggingCommand, GetObjectCommand, PutBucketLoggingCommand, PutBucketPolicyCommand, PutBucketWebsiteCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { request } from 'node:http';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { fetchStats, signedGet } from '../../src/cli/commands/stats.js';
import { openStore } from '../../src/storage/engine.js';
import { accessLogFile, formatAccessLogLine, setAccessLog } from '../../src/serving/access-log.js';
import type { StatsReport } from '../../src/serving/stats-report.js';

const run = promisify(execFile);
const FLUSH_WAIT_MS = 2600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestServer;
let s3: S3Client;
const photo = Buffer.alloc(1000, 7);

beforeAll(async () => {
  server = await startServer({ args: ['--workers', '2', '--website-domain', 'web.test'] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'stats' }));
  await s3.send(new PutObjectCommand({ Bucket: 'stats', Key: 'pub/photo.jpg', Body: photo, ContentType: 'image/jpeg' }));
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::stats/pub/*'] }] };
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'stats', Policy: JSON.stringify(policy) }));
  // 5 anonymous GETs with a Referer, 2 signed GETs, 3 signed GETs of a missing key (404), 1 anonymous HEAD.
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${server.endpoint}/stats/pub/photo.jpg`, { headers: { Referer: `https://Blog.Example.com/post/${i}?x=1` } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(1000);
  }
  for (let i = 0; i < 2; i++) {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'stats', Key: 'pub/photo.jpg' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(1000);
  }
  for (let i = 0; i < 3; i++) {
    await expect(s3.send(new GetObjectCommand({ Bucket: 'stats', Key: 'pub/missing.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  }
  expect((await fetch(`${server.endpoint}/stats/pub/photo.jpg`, { method: 'HEAD' })).status).toBe(200);
  await sleep(FLUSH_WAIT_MS);
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const conn = () => ({ endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey });
const stats = (query: Record<string, string> = {}) => fetchStats({ ...conn(), bucket: 'stats', query });

/** The cost formula of docs/serving.md, written out independently of src/serving/cost.ts. */
function costByHand(r: StatsReport, prices = { storage: 0.15, transfer: 0.2, requests: 0.01 }): number {
  const gb = 1024 * 1024 * 1024;
  const perMonth = 30 / r.days;
  return (r.stored.bytes / gb) * prices.storage + (r.totals.bytesOut / gb) * perMonth * prices.transfer + (r.totals.puts / 1000 + r.totals.gets / 10000) * prices.requests * perMonth;
}

describe('GET /_offload/stats/<bucket>', () => {
  it('counts every request exactly, across workers', async () => {
    const r = await stats({ since: '7d', top: '20' });
    const photoRow = r.topByRequests.find((f) => f.key === 'pub/photo.jpg')!;
    const missing = r.topByRequests.find((f) => f.key === 'pub/missing.txt')!;
    expect(photoRow).toMatchObject({ requests: 9, bytesOut: 7000, bytesIn: 1000, s2xx: 9, s3xx: 0, s4xx: 0, s5xx: 0, anonymous: 6, signed: 3, puts: 1, gets: 8 });
    expect(missing).toMatchObject({ requests: 3, s4xx: 3, signed: 3, anonymous: 0, puts: 0, gets: 3 });
    expect(missing.bytesOut).toBeGreaterThan(0); // the NoSuchKey documents
    expect(r.topByRequests.map((f) => f.key)).toEqual(['pub/photo.jpg', 'pub/missing.txt']);
    expect(r.topByBytes[0]!.key).toBe('pub/photo.jpg');
    expect(r.totals).toMatchObject({ requests: 12, s2xx: 9, s4xx: 3, anonymous: 6, signed: 6, puts: 1, gets: 11 });
    expect(r.totals.bytesOut).toBe(7000 + missing.bytesOut);
    expect(r.referrers).toEqual([{ host: 'blog.example.com', requests: 5 }]);
    expect(r.perDay).toHaveLength(1);
    expect(r.perDay[0]).toMatchObject({ day: new Date().toISOString().slice(0, 10), requests: 12 });
    expect(r.stored).toEqual({ objects: 1, bytes: 1000, noncurrentVersions: 0, noncurrentBytes: 0, deleteMarkers: 0 });
    expect(r.days).toBe(7);
  });

  it('filters by prefix and limits the lists', async () => {
    const none = await stats({ prefix: 'other/' });
    expect(none.totals.requests).toBe(0);
    expect(none.topByRequests).toEqual([]);
    expect(none.stored).toEqual({ objects: 0, bytes: 0, noncurrentVersions: 0, noncurrentBytes: 0, deleteMarkers: 0 });
    const one = await stats({ prefix: 'pub/p', top: '1' });
    expect(one.topByRequests.map((f) => f.key)).toEqual(['pub/photo.jpg']);
    expect(one.totals.requests).toBe(9);
  });

  it('refuses unsigned, wrongly signed and malformed requests', async () => {
    const unsigned = await fetch(`${server.endpoint}/_offload/stats/stats`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('content-type')).toBe('application/xml');
    expect(await unsigned.text()).toContain('<Code>AccessDenied</Code>');
    expect((await signedGet({ ...conn(), secretAccessKey: 'not-the-secret' }, '/_offload/stats/stats')).status).toBe(403);
    expect((await signedGet(conn(), '/_offload/stats/no-such-bucket')).status).toBe(404);
    expect((await signedGet(conn(), '/_offload/stats/stats', { since: 'forever' })).status).toBe(400);
  });

  it('estimates the monthly cost with the documented formula', async () => {
    const r = await stats();
    // By hand: 1000 B stored, 7000 B + 3 error documents sent over 7 days, 1 PUT and 11 GETs.
    const expected = (1000 / 2 ** 30) * 0.15 + (r.totals.bytesOut / 2 ** 30) * (30 / 7) * 0.2 + (1 / 1000 + 11 / 10000) * 0.01 * (30 / 7);
    expect(costByHand(r)).toBeCloseTo(expected, 12);
    const { stdout } = await run(process.execPath, [CLI, 'stats', 's3://stats', '--json', '--endpoint', server.endpoint], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region },
    });
    const out = JSON.parse(stdout) as StatsReport & { cost: { total: number; storage: number; transfer: number; requests: number; formula: string[] }; prices: object };
    expect(out.totals).toEqual(r.totals);
    expect(out.topByRequests).toEqual(r.topByRequests);
    expect(out.prices).toEqual({ storagePerGbMonth: 0.15, transferPerGb: 0.2, requests: 0.01 });
    expect(out.cost.total).toBeCloseTo(expected, 12);
    expect(out.cost.requests).toBeCloseTo((1 / 1000 + 11 / 10000) * 0.01 * (30 / 7), 12);
    expect(out.cost.formula.join('\n')).toContain('(1 / 1000 + 11 / 10000) x 0.01');
  });

  it('prints a report at other prices', async () => {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'stats', 's3://stats/pub/', '--since', '24h', '--top', '5', '--price-storage', '1', '--price-transfer', '2', '--price-requests', '3'],
      { env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey } },
    );
    expect(stdout).toMatch(/Most requested:\n\s+9 req\s+6\.8 KiB\s+pub\/photo\.jpg/);
    expect(stdout).toContain('Most bandwidth:');
    expect(stdout).toContain('Per day:');
    expect(stdout).toContain('blog.example.com');
    const r = await stats({ prefix: 'pub/', since: '24h' });
    const total = costByHand(r, { storage: 1, transfer: 2, requests: 3 });
    expect(stdout).toContain(`Estimated monthly cost: $${total.toFixed(6)}`);
    expect(stdout).toContain('(PUTs / 1,000 + GETs / 10,000) x $3 x (30 / 1 days)');
  });
});

describe('access log', () => {
  it('appends S3 server-access-log lines for a bucket with logging on', async () => {
    // Turned on through the data folder, as another process would; the workers see the change.
    const store = await openStore(server.dataDir, { skipRecovery: true });
    await setAccessLog(store, 'stats', true);
    await store.close();
    const file = accessLogFile(server.dataDir, 'stats');
    await fetch(`${server.endpoint}/stats/pub/photo.jpg`, { headers: { Referer: 'https://blog.example.com/', 'User-Agent': 'stats-test/1.0' } });
    await s3.send(new GetObjectCommand({ Bucket: 'stats', Key: 'pub/missing.txt' })).catch(() => undefined);
    await sleep(FLUSH_WAIT_MS);
    expect(existsSync(file)).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const anon = lines.find((l) => l.includes('stats-test/1.0'))!;
    expect(anon).toMatch(
      /^\S+ stats \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] 127\.0\.0\.1 - \S+ REST\.GET\.OBJECT pub\/photo\.jpg "GET \/stats\/pub\/photo\.jpg HTTP\/1\.1" 200 - 1000 1000 \d+ - "https:\/\/blog\.example\.com\/" "stats-test\/1\.0" - \S+ - - - /,
    );
    const signed = lines.find((l) => l.includes('pub/missing.txt'))!;
    expect(signed).toMatch(/ REST\.GET\.OBJECT pub\/missing\.txt "GET \/stats\/pub\/missing\.txt[^"]*" 404 /);
    expect(signed).toContain(' SigV4 - AuthHeader ');

    const off = await openStore(server.dataDir, { skipRecovery: true });
    await setAccessLog(off, 'stats', false);
    await off.close();
    await fetch(`${server.endpoint}/stats/pub/photo.jpg`);
    await sleep(FLUSH_WAIT_MS);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('is switched by PutBucketLogging, and GetBucketLogging reports it', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'stats-logs' }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'stats', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'stats-logs', TargetPrefix: 'access/' } } }));
    const got = await s3.send(new GetBucketLoggingCommand({ Bucket: 'stats' }));
    expect(got.LoggingEnabled).toEqual({ TargetBucket: 'stats-logs', TargetPrefix: 'access/' });
    const file = accessLogFile(server.dataDir, 'stats');
    const before = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').length : 0;
    await fetch(`${server.endpoint}/stats/pub/photo.jpg`, { headers: { 'User-Agent': 'logging-switch-test' } });
    await sleep(FLUSH_WAIT_MS);
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(before);
    expect(lines.filter((l) => l.includes('logging-switch-test'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('REST.GET.LOGGING_STATUS') || l.includes('REST.PUT.LOGGING_STATUS') || l.includes('LOGGING'))).toBe(true);
    await s3.send(new PutBucketLoggingCommand({ Bucket: 'stats', BucketLoggingStatus: {} }));
    expect((await s3.send(new GetBucketLoggingCommand({ Bucket: 'stats' }))).LoggingEnabled).toBeUndefined();
    const missing = await s3.send(new PutBucketLoggingCommand({ Bucket: 'stats', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'no-such-target', TargetPrefix: '' } } })).catch((e: Error) => e);
    expect((missing as Error).name).toBe('InvalidArgument');
  });

  it('formats one line in the documented field order', () => {
    const line = formatAccessLogLine(
      {
        bucket: 'media', key: 'img/a b.jpg', op: 'GetObject', method: 'GET', url: '/media/img/a%20b.jpg', httpVersion: '1.1', status: 206,
        remoteIp: '192.0.2.3', principal: { kind: 'anonymous' }, requestId: 'REQ1', bytesSent: 10, objectSize: 10, totalMs: 3.4,
        referer: undefined, userAgent: 'curl/8 "x"', host: 'localhost:9000', time: Date.UTC(2019, 1, 6, 0, 0, 38), website: false,
      },
      'owner1',
    );
    expect(line).toBe(
      'owner1 media [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - REQ1 REST.GET.OBJECT img/a%20b.jpg "GET /media/img/a%20b.jpg HTTP/1.1" 206 - 10 10 3 - "-" "curl/8 x" - REQ1 - - - localhost:9000 - - -\n',
    );
  });
});

describe('website endpoint', () => {
  it('counts website requests per object too', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'site' }));
    await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'index.html', Body: '<h1>hi</h1>', ContentType: 'text/html' }));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::site/*'] }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'site', Policy: JSON.stringify(policy) }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: 'site', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: server.host, port: server.port, path, headers: { Host: 'site.web.test', Referer: 'http://ref.test/' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/index.html')).toBe(200);
    expect(await get('/index.html')).toBe(200);
    expect(await get('/nothing.html')).toBe(404); // a published website says which pages are missing (docs/serving.md)
    await sleep(FLUSH_WAIT_MS);
    const r = await fetchStats({ ...conn(), bucket: 'site', query: {} });
    expect(r.topByRequests.find((f) => f.key === 'index.html')).toMatchObject({ requests: 3, bytesOut: 22, s2xx: 3, anonymous: 2, signed: 1 });
    expect(r.topByRequests.find((f) => f.key === 'nothing.html')).toMatchObject({ requests: 1, s4xx: 1 });
    expect(r.referrers).toEqual([{ host: 'ref.test', requests: 3 }]);
  });
});

describe('shutdown', () => {
  it('flushes the last counts when the server stops', async () => {
    const first = await startServer({ args: ['--workers', '2'] });
    const client = sdkClient(first);
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'late' }));
      await client.send(new PutObjectCommand({ Bucket: 'late', Key: 'k', Body: 'x' }));
      for (let i = 0; i < 3; i++) await client.send(new GetObjectCommand({ Bucket: 'late', Key: 'k' })).then((r) => r.Body!.transformToString());
    } finally {
      client.destroy();
      await first.stop({ keepData: true }); // at once: well within the 2 s flush interval
    }
    const second = await startServer({ dataDir: first.dataDir });
    try {
      const r = await fetchStats({ endpoint: second.endpoint, region: second.region, accessKeyId: second.accessKeyId, secretAccessKey: second.secretAccessKey, bucket: 'late', query: {} });
      expect(r.totals).toMatchObject({ requests: 4, puts: 1, gets: 3, bytesOut: 3, signed: 4 });
    } finally {
      await second.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
