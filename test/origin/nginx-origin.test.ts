/**
 * An origin bucket in front of Debian's nginx serving a real file tree: fills, hits without
 * origin requests (counted in nginx's access log), single flight, revalidation with 304,
 * stale-if-error, negative caching, purge, Range and HEAD on a miss, errors, redirects.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CLI, type TestServer } from '../helpers/server.js';
import { admin, errorCode, eventually, NGINX, setOrigin, startNginx, startOriginServer, type Nginx } from './_origin.js';

const run = promisify(execFile);
const BIG = randomBytes(3 * 1024 * 1024 + 17);
const FILES = {
  'img/big.bin': BIG,
  'img/a.txt': 'alpha\n',
  'img/b.txt': 'bravo\n',
  'img/c.txt': 'charlie\n',
  'img/range.txt': '0123456789abcdefghijklmnopqrstuvwxyz',
  'img/head.txt': 'head only\n',
  'img/coalesce.bin': randomBytes(1024 * 1024),
  'short/s.txt': 'short-lived\n',
  'swr/w.txt': 'while revalidating\n',
  'nostore/n.txt': 'do not keep\n',
  'css/site.css': 'body{color:red}\n',
};
const LOCATIONS = `
  location / { add_header Cache-Control "public, max-age=3600"; }
  location /short/ { add_header Cache-Control "max-age=1, stale-if-error=600"; }
  location /swr/ { add_header Cache-Control "max-age=1, stale-while-revalidate=600"; }
  location /nostore/ { add_header Cache-Control "no-store"; }
  location /broken/ { return 503; }
  location = /moved.txt { return 301 /img/a.txt; }
  location = /away.txt { return 302 http://127.0.0.2:9/elsewhere; }
`;

const skip = missingPeer('nginx', existsSync(NGINX));
let nginx: Nginx;
let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  if (skip) return;
  nginx = await startNginx(FILES, LOCATIONS);
  server = await startOriginServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  await setOrigin(server, 'media', { url: nginx.url, public: true });
}, 60_000);
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
  await nginx?.remove();
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${server.endpoint}/media/${path}`, { headers, method });
const stored = async (prefix = '') => ((await s3.send(new ListObjectsV2Command({ Bucket: 'media', Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

describe.skipIf(skip)('origin bucket in front of nginx', () => {
  it('answers a miss from the origin and stores it; the second request is a HIT that nginx never sees', async () => {
    const first = await get('img/big.bin');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('age')).toBe('0');
    expect(Buffer.from(await first.arrayBuffer()).equals(BIG)).toBe(true);
    await eventually(async () => (await stored('img/big.bin')).length === 1);
    const second = await get('img/big.bin');
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(second.headers.get('x-amz-meta-offload-origin-etag')).toMatch(/^"/);
    expect(Buffer.from(await second.arrayBuffer()).equals(BIG)).toBe(true);
    expect(nginx.requests('/img/big.bin')).toEqual(['GET /img/big.bin 200']);
  });

  it('makes one origin request for 50 concurrent misses of one key', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => get('img/coalesce.bin').then(async (r) => ({ status: r.status, size: (await r.arrayBuffer()).byteLength }))));
    expect(answers.every((a) => a.status === 200 && a.size === 1024 * 1024)).toBe(true);
    expect(nginx.requests('/img/coalesce.bin')).toHaveLength(1);
  });

  it('revalidates a stale copy with a conditional request: a 304 refreshes it without a download', async () => {
    expect((await get('short/s.txt')).headers.get('x-cache')).toBe('MISS');
    await eventually(async () => (await stored('short/')).length === 1);
    await new Promise((r) => setTimeout(r, 2100));
    const again = await get('short/s.txt');
    expect(again.status).toBe(200);
    expect(again.headers.get('x-cache')).toBe('REVALIDATED');
    expect(await again.text()).toBe('short-lived\n');
    expect(nginx.requests('/short/s.txt')).toEqual(['GET /short/s.txt 200', 'GET /short/s.txt 304']);
    expect((await get('short/s.txt')).headers.get('x-cache')).toBe('HIT');
  });

  it('answers STALE at once within stale-while-revalidate and revalidates in the background', async () => {
    expect((await get('swr/w.txt')).headers.get('x-cache')).toBe('MISS');
    await eventually(async () => (await stored('swr/')).length === 1);
    await new Promise((r) => setTimeout(r, 2100));
    const stale = await get('swr/w.txt');
    expect(stale.headers.get('x-cache')).toBe('STALE');
    expect(Number(stale.headers.get('age'))).toBeGreaterThanOrEqual(1);
    expect(await stale.text()).toBe('while revalidating\n');
    await eventually(async () => nginx.requests('/swr/w.txt').includes('GET /swr/w.txt 304'));
    await eventually(async () => (await get('swr/w.txt')).headers.get('x-cache') === 'HIT');
  });

  it('remembers a 404 for the negative TTL', async () => {
    const first = await get('img/nothing.png');
    expect(first.status).toBe(404);
    expect(errorCode(await first.text())).toBe('NoSuchKey');
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await get('img/nothing.png');
    expect(second.status).toBe(404);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(nginx.requests('/img/nothing.png')).toHaveLength(1);
  });

  it('purges a key and a prefix: the next GET fetches again, user uploads stay', async () => {
    await get('img/a.txt').then((r) => r.text());
    await get('img/b.txt').then((r) => r.text());
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key: 'img/mine.txt', Body: 'uploaded', ACL: 'public-read' }));
    expect((await get('img/mine.txt')).headers.get('x-cache')).toBe('HIT');
    await eventually(async () => (await stored('img/b.txt')).length === 1);
    const env = { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
    const one = await run(process.execPath, [CLI, 'purge', 's3://media/img/a.txt'], { env });
    expect(one.stdout).toContain('1 filled object purged');
    expect((await get('img/a.txt')).headers.get('x-cache')).toBe('MISS');
    expect(nginx.requests('/img/a.txt')).toHaveLength(2);
    const all = await run(process.execPath, [CLI, 'purge', 's3://media/img/', '--prefix'], { env });
    expect(all.stdout).toMatch(/filled objects purged, 1 uploaded by users kept/);
    expect(await stored('img/mine.txt')).toEqual(['img/mine.txt']);
    expect(await stored('img/b.txt')).toEqual([]);
  });

  it('answers a Range on a miss from the origin and fills the whole object behind it', async () => {
    const res = await get('img/range.txt', { range: 'bytes=10-19' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/36');
    expect(await res.text()).toBe('abcdefghij');
    await eventually(async () => (await stored('img/range.txt')).length === 1);
    const hit = await get('img/range.txt', { range: 'bytes=-3' });
    expect(hit.status).toBe(206);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await hit.text()).toBe('xyz');
  });

  it('asks the origin with HEAD on a HEAD miss and stores nothing', async () => {
    const res = await get('img/head.txt', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('10');
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(nginx.requests('/img/head.txt')).toEqual(['HEAD /img/head.txt 200']);
    expect(await stored('img/head.txt')).toEqual([]);
  });

  it('passes no-store answers through without storing them', async () => {
    expect(await (await get('nostore/n.txt')).text()).toBe('do not keep\n');
    expect(await (await get('nostore/n.txt')).text()).toBe('do not keep\n');
    expect(nginx.requests('/nostore/n.txt')).toHaveLength(2);
    expect(await stored('nostore/')).toEqual([]);
  });

  it('answers origin errors 502 and caches nothing; follows redirects only within the origin', async () => {
    const broken = await get('broken/x.txt');
    expect(broken.status).toBe(502);
    expect(errorCode(await broken.text())).toBe('XOffloadOriginError');
    expect((await get('broken/x.txt')).status).toBe(502);
    expect(nginx.requests('/broken/x.txt')).toHaveLength(2);
    const moved = await get('moved.txt');
    expect(moved.status).toBe(200);
    expect(await moved.text()).toBe('alpha\n');
    const away = await get('away.txt');
    expect(away.status).toBe(502);
    expect(await stored('away.txt')).toEqual([]);
  });

  it('counts hits, misses and origin bytes in /_offload/metrics and offload stats', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const metrics = await (await admin(server, 'GET', '/_offload/metrics')).text();
    expect(metrics).toMatch(/offload_origin_hits_total\{bucket="media"\} [1-9]/);
    expect(metrics).toMatch(/offload_origin_misses_total\{bucket="media"\} [1-9]/);
    expect(metrics).toMatch(/offload_origin_bytes_total\{bucket="media"\} \d{7,}/);
    const env = { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
    const stats = await run(process.execPath, [CLI, 'stats', 's3://media'], { env });
    expect(stats.stdout).toMatch(/Origin \(all time\): \d+ hits, \d+ misses/);
  });

  it('answers a stale copy (STALE) while the origin is down, within stale-if-error', async () => {
    await nginx.stop();
    await new Promise((r) => setTimeout(r, 2100));
    const res = await get('short/s.txt');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('STALE');
    expect(await res.text()).toBe('short-lived\n');
    // Without a stored copy, the outage is a 502 (never cached as content).
    const none = await get('css/site.css');
    expect(none.status).toBe(502);
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});

describe.skipIf(skip)('with --workers 2', () => {
  it('makes one origin request for 50 concurrent misses spread over both worker processes', async () => {
    const origin = await startNginx({ 'w/one.bin': randomBytes(512 * 1024) }, 'location / { add_header Cache-Control "max-age=600"; }');
    const twin = await startOriginServer(['--workers', '2']);
    try {
      const client = sdkClient(twin);
      await client.send(new CreateBucketCommand({ Bucket: 'media' }));
      client.destroy();
      await setOrigin(twin, 'media', { url: origin.url, public: true });
      const sizes = await Promise.all(Array.from({ length: 50 }, () => fetch(`${twin.endpoint}/media/w/one.bin`).then(async (r) => (r.status === 200 ? (await r.arrayBuffer()).byteLength : -r.status))));
      expect(sizes.every((n) => n === 512 * 1024)).toBe(true);
      expect(origin.requests('/w/one.bin')).toHaveLength(1);
    } finally {
      await twin.stop();
      await origin.remove();
    }
  }, 60_000);
});
