/**
 * Site settings, usage and server info through the console API: website hosting, cache rules
 * (seen in an anonymous response), CORS origins, the custom domain record, stats after some
 * traffic with the cost estimate at edited prices, and the --no-console and banner behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';
import { errorCode, signedIn, startConsoleServer, type ConsoleClient, type ConsoleServer } from './api-client.js';

let server: ConsoleServer;
let root: ConsoleClient;

beforeAll(async () => {
  server = await startConsoleServer({ args: ['--website-port', '0'] });
  root = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
  await root.json('POST', '/buckets', { json: { name: 'media.example.com', public: true } });
  await root.json('PUT', '/buckets/media.example.com/put?key=index.html', { body: new TextEncoder().encode('<h1>home</h1>') });
  await root.json('PUT', '/buckets/media.example.com/put?key=fonts/a.woff2', { body: new Uint8Array(100) });
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

describe('console settings', () => {
  it('reads the defaults: no website, no rules, no CORS, and the DNS record for the bucket\'s domain', async () => {
    const got = await root.json('GET', '/buckets/media.example.com/settings');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      website: { enabled: false },
      cacheRules: [],
      cors: { origins: [], methods: [] },
      domain: { cname: 'media.example.com', record: 'media.example.com. CNAME 127.0.0.1.' },
    });
  });

  it('turns website hosting on and off', async () => {
    const on = await root.json('PUT', '/buckets/media.example.com/settings/website', { json: { enabled: true, indexDocument: 'index.html', errorDocument: '404.html' } });
    expect(on.status).toBe(200);
    expect(on.body.website).toEqual({ enabled: true, indexDocument: 'index.html', errorDocument: '404.html' });
    const site = await fetch(`http://127.0.0.1:${server.websitePort}/`, { headers: { host: `media.example.com.localhost` } });
    expect([200, 404]).toContain(site.status);
    const listed = await root.json<{ buckets: { name: string; website: boolean }[] }>('GET', '/buckets');
    expect(listed.body.buckets.find((b) => b.name === 'media.example.com')?.website).toBe(true);
    const off = await root.json('PUT', '/buckets/media.example.com/settings/website', { json: { enabled: false } });
    expect(off.body.website).toMatchObject({ enabled: false });
  });

  it('sets a cache rule that an anonymous response then carries', async () => {
    const set = await root.json('PUT', '/buckets/media.example.com/settings/cache-rules', { json: { cacheRules: [{ match: 'font/*', cacheControl: 'public, max-age=31536000, immutable' }, { match: 'key:*.html', cacheControl: 'no-cache' }] } });
    expect(set.status).toBe(200);
    expect(set.body.cacheRules).toEqual([
      { match: 'font/*', contentType: ['font/*'], cacheControl: 'public, max-age=31536000, immutable' },
      { match: 'key:*.html', key: ['*.html'], cacheControl: 'no-cache' },
    ]);
    const font = await fetch(`${server.endpoint}/media.example.com/fonts/a.woff2`);
    expect(font.status).toBe(200);
    expect(font.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.endpoint}/media.example.com/index.html`)).headers.get('cache-control')).toBe('no-cache');
    const bad = await root.json('PUT', '/buckets/media.example.com/settings/cache-rules', { json: { cacheRules: [{ match: 'font/*' }] } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { message: string } }).error.message).toMatch(/^Cache rule 1: /);
  });

  it('sets CORS origins (the fonts preset) that a browser preflight then gets', async () => {
    const set = await root.json('PUT', '/buckets/media.example.com/settings/cors', { json: { origins: ['https://www.example.com'], methods: ['GET', 'HEAD'] } });
    expect(set.status).toBe(200);
    expect(set.body.cors).toEqual({ origins: ['https://www.example.com'], methods: ['GET', 'HEAD'] });
    const preflight = await fetch(`${server.endpoint}/media.example.com/fonts/a.woff2`, { method: 'OPTIONS', headers: { origin: 'https://www.example.com', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://www.example.com');
    const cleared = await root.json('PUT', '/buckets/media.example.com/settings/cors', { json: { origins: [] } });
    expect(cleared.body.cors).toEqual({ origins: [], methods: [] });
  });
});

describe('console usage and info', () => {
  it('reports requests over time, top files and the cost at edited prices', async () => {
    await root.json('PUT', '/buckets/media.example.com/put?key=stats/b.woff2', { body: new Uint8Array(100) });
    for (let i = 0; i < 3; i++) await fetch(`${server.endpoint}/media.example.com/stats/b.woff2`, { headers: { referer: 'https://blog.example.org/post' } });
    await fetch(`${server.endpoint}/media.example.com/missing.png`);
    const prices = await root.json('PUT', '/prices', { json: { storagePerGbMonth: 1, egressPerGb: 2, requestsPer1000Get: 3, requestsPer1000Put: 4, currency: 'EUR' } });
    expect(prices.status).toBe(200);
    expect((await root.json('GET', '/prices')).body).toEqual({ storagePerGbMonth: 1, egressPerGb: 2, requestsPer1000Get: 3, requestsPer1000Put: 4, currency: 'EUR' });
    const stats = await root.json<{
      series: { t: string; requests: number; s2xx: number; s4xx: number }[];
      topByRequests: { key: string; requests: number }[];
      topReferrers: { referrer: string; requests: number }[];
      totals: { requests: number };
      storageBytes: number;
      costEstimate: { total: number; currency: string };
    }>('GET', '/stats?bucket=media.example.com&period=hour');
    expect(stats.status).toBe(200);
    expect(stats.body.series.length).toBeGreaterThanOrEqual(48);
    // Summed, not the last point: the requests may straddle an hour boundary.
    const sum = (name: 'requests' | 's4xx') => stats.body.series.reduce((n, p) => n + p[name], 0);
    expect(sum('requests')).toBeGreaterThanOrEqual(4);
    expect(sum('s4xx')).toBeGreaterThanOrEqual(1);
    expect(stats.body.totals.requests).toBe(sum('requests'));
    expect(stats.body.topByRequests.find((t) => t.key === 'stats/b.woff2')).toMatchObject({ requests: 3 });
    expect(stats.body.topReferrers[0]).toMatchObject({ referrer: 'blog.example.org', requests: 3 });
    expect(stats.body.storageBytes).toBeGreaterThan(100);
    expect(stats.body.costEstimate.currency).toBe('EUR');
    expect(stats.body.costEstimate.total).toBeGreaterThan(0);
    const daily = await root.json<{ series: unknown[] }>('GET', '/stats?bucket=media.example.com&period=day');
    expect(daily.body.series.length).toBeGreaterThanOrEqual(30);
    const one = await root.json<{ series: { requests: number }[] }>('GET', `/stats/object?bucket=media.example.com&key=${encodeURIComponent('stats/b.woff2')}&period=hour`);
    expect(one.status).toBe(200);
    expect(one.body.series.reduce((n, p) => n + p.requests, 0)).toBe(3);
    expect((await root.json('GET', '/stats?period=week')).status).toBe(400);
  });

  it('refuses usage of a bucket to a key that may not read it, and all-bucket usage to non-root keys', async () => {
    const made = await root.json<{ accessKeyId: string; secretAccessKey: string }>('POST', '/keys', { json: { name: 'stranger', access: 'all' } });
    const stranger = await signedIn(server.consoleOrigin, made.body.accessKeyId, made.body.secretAccessKey);
    const one = await stranger.json('GET', '/stats?bucket=media.example.com');
    expect(one.status).toBe(403);
    expect(errorCode(one.body)).toBe('AccessDenied');
    expect((await stranger.json('GET', '/stats')).status).toBe(403);
    expect((await stranger.json('PUT', '/prices', { json: { egressPerGb: 0 } })).status).toBe(403);
    expect((await stranger.json('GET', '/buckets/media.example.com/settings')).status).toBe(403);
  });

  it('describes the server without secrets', async () => {
    const info = await root.json('GET', '/info');
    expect(info.body).toMatchObject({ endpoint: server.endpoint, region: 'us-east-1', domain: 'localhost', websiteEndpoint: `http://127.0.0.1:${server.websitePort}` });
    expect(JSON.stringify(info.body)).not.toContain(server.secretAccessKey);
  });
});

describe('console serving', () => {
  it('--no-console serves no console port and no /_offload/console/', async () => {
    const plain = await startServer({ args: ['--no-console'] });
    try {
      expect(plain.output()).not.toContain('offload console on');
      const res = await fetch(`${plain.endpoint}/_offload/console/api/session`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-security-policy')).toBeNull();
    } finally {
      await plain.stop();
    }
  });

  it('a fixed --console-port is used, and prints in the banner', async () => {
    const probe = await startServer({ args: ['--console-port', '0'] });
    try {
      expect(probe.output()).toMatch(/offload console on http:\/\/127\.0\.0\.1:\d+\/_offload\/console\/ /);
    } finally {
      await probe.stop();
    }
  });
});
