/** Precompressed variants and per-bucket cache rules, against the real server with real clients (fetch, curl). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest } from '../helpers/raw.js';
import { DEFAULT_CACHE_CONTROL } from '../../src/media/cache-rules.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'media-serving';
const css = Buffer.from('body { color: #123456; }\n'.repeat(200));
const rulesFile = join(mkdtempSync(join(tmpdir(), 'offload-rules-')), 'rules.json');

beforeAll(async () => {
  writeFileSync(rulesFile, JSON.stringify({ [bucket]: { rules: [
    { contentType: ['text/css', 'font/*'], cacheControl: 'public, max-age=31536000, immutable' },
    { key: ['**/*.html'], cacheControl: 'no-cache' },
  ] } }));
  server = await startServer({ args: ['--cache-rules', rulesFile] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = (Key: string, Body: Buffer | string, ContentType: string, extra: Record<string, string> = {}) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType, ACL: 'public-read', ...extra }));
  await put('css/site.css', css, 'text/css; charset=utf-8');
  await put('css/site.css.br', brotliCompressSync(css), 'application/octet-stream');
  await put('css/site.css.gz', gzipSync(css), 'application/gzip');
  await put('js/only-gzip.js', 'console.log(1);'.repeat(100), 'application/javascript');
  await put('js/only-gzip.js.gz', gzipSync('console.log(1);'.repeat(100)), 'application/gzip');
  await put('index.html', '<h1>hi</h1>', 'text/html');
  await put('fonts/a.woff2', 'font-bytes', 'font/woff2');
  await put('own.css', 'a{}', 'text/css', { CacheControl: 'max-age=60' });
  await put('img/plain.png', 'png-bytes', 'image/png');
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const url = (key: string) => `${server.endpoint}/${bucket}/${key}`;

/** fetch() decodes content encodings itself; a raw socket shows exactly what was sent. */
async function raw(key: string, headers: Record<string, string> = {}) {
  const lines = Object.entries({ Host: `127.0.0.1:${server.port}`, Connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}`);
  const res = await rawRequest(server, `GET /${bucket}/${key} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  return res;
}

async function bytes(key: string, headers: Record<string, string>) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(url(key), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('precompressed variants', () => {
  it('serves the br variant to a client that accepts br, with the identity headers', async () => {
    const res = await bytes('css/site.css', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}-br"$/);
    expect(brotliDecompressSync(res.body).equals(css)).toBe(true);
  });

  it('serves gzip when br is refused or missing, identity when nothing is accepted', async () => {
    const gz = await bytes('css/site.css', { 'Accept-Encoding': 'br;q=0, gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(css)).toBe(true);
    const onlyGzip = await bytes('js/only-gzip.js', { 'Accept-Encoding': 'br, gzip' });
    expect(onlyGzip.headers['content-encoding']).toBe('gzip');
    const identity = await bytes('css/site.css', {});
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.headers.vary).toBe('Accept-Encoding');
    expect(identity.body.equals(css)).toBe(true);
  });

  it('answers ranges with identity bytes and conditional requests per representation', async () => {
    const ranged = await bytes('css/site.css', { 'Accept-Encoding': 'br', Range: 'bytes=0-3' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-encoding']).toBeUndefined();
    expect(ranged.body.toString()).toBe('body');
    const first = await bytes('css/site.css', { 'Accept-Encoding': 'br' });
    const again = await bytes('css/site.css', { 'Accept-Encoding': 'br', 'If-None-Match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    const identity = await bytes('css/site.css', { 'If-None-Match': String(first.headers.etag) });
    expect(identity.status).toBe(200);
  });

  it('works with curl --compressed', () => {
    const out = execFileSync('curl', ['-s', '--compressed', '-D', '-', url('css/site.css')]).toString('latin1');
    expect(out).toMatch(/content-encoding: (br|gzip)/i);
    expect(out.endsWith(css.toString())).toBe(true);
  });

  it.skipIf(missingPeer('Chromium', existsSync('/usr/bin/chromium')))('is negotiated by a browser (headless Chromium)', async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const res = await page.goto(url('css/site.css'));
      const headers = await res!.allHeaders();
      expect(['br', 'gzip']).toContain(headers['content-encoding']);
      expect(headers.vary).toBe('Accept-Encoding');
      expect((await res!.body()).equals(css)).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('does not look for variants of types that do not compress', async () => {
    const res = await raw('img/plain.png', { 'Accept-Encoding': 'br' });
    expect(res.status).toBe(200);
    expect(res.headers.vary).toBeUndefined();
  });
});

describe('cache rules', () => {
  it('fills Cache-Control by type and by key glob', async () => {
    expect((await fetch(url('fonts/a.woff2'))).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(url('index.html'))).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(url('css/site.css'), { method: 'HEAD' })).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it("never overrides the object's own Cache-Control, and gives unmatched objects the server's default", async () => {
    expect((await fetch(url('own.css'))).headers.get('cache-control')).toBe('max-age=60');
    expect((await fetch(url('img/plain.png'))).headers.get('cache-control')).toBe(DEFAULT_CACHE_CONTROL.media);
  });
});
