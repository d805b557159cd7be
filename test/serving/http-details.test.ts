/**
 * HTTP details that browsers and CDNs rely on: If-Range never splices two versions, a 304 keeps
 * the caching headers of the 200 it stands for, and the website endpoint says which host found
 * no bucket.
 */
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutBucketCorsCommand, PutBucketWebsiteCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'details';
const body = 'abcdefghijklmnopqrstuvwxyz'.repeat(100);
const css = 'body { color: red; }\n'.repeat(200);
let etag: string;
let lastModified: string;

beforeAll(async () => {
  const rulesFile = join(mkdtempSync(join(tmpdir(), 'offload-details-')), 'rules.json');
  writeFileSync(rulesFile, JSON.stringify({ [bucket]: { rules: [
    { contentType: ['text/css'], cacheControl: 'public, max-age=31536000, immutable' },
    { contentType: ['image/*'], cacheControl: 'public, max-age=86400', expiresIn: 86400 },
  ] } }));
  server = await startServer({ args: ['--cache-rules', rulesFile, '--website-port', '0'] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = (Key: string, Body: string | Buffer, ContentType: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType, ACL: 'public-read' }));
  await put('file.txt', body, 'text/plain');
  await put('site.css', css, 'text/css');
  await put('site.css.br', brotliCompressSync(css), 'application/octet-stream');
  await put('logo.png', 'png-bytes', 'image/png');
  await put('index.html', '<h1>home</h1>', 'text/html');
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://app.example'], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['*'] }] } }));
  await s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  const head = await fetch(`${server.endpoint}/${bucket}/file.txt`, { method: 'HEAD' });
  etag = head.headers.get('etag')!;
  lastModified = head.headers.get('last-modified')!;
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

function get(path: string, headers: Record<string, string>, port = server.port, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('If-Range', () => {
  const ranged = (ifRange: string) => get(`/${bucket}/file.txt`, { Range: 'bytes=0-9', 'If-Range': ifRange });

  it('applies the range while the ETag still matches', async () => {
    const res = await ranged(etag);
    expect(res.status).toBe(206);
    expect(res.body).toBe(body.slice(0, 10));
  });

  it('sends the whole object when the ETag changed, when it is weak, or the date is not Last-Modified', async () => {
    for (const validator of ['"0123456789abcdef0123456789abcdef"', `W/${etag}`, 'Mon, 01 Jan 2001 00:00:00 GMT']) {
      const res = await ranged(validator);
      expect(res.status, validator).toBe(200);
      expect(res.body).toBe(body);
      expect(res.headers['content-range']).toBeUndefined();
    }
  });

  it('applies the range when the date is exactly Last-Modified', async () => {
    const res = await ranged(lastModified);
    expect(res.status).toBe(206);
  });
});

describe('304 Not Modified', () => {
  it('carries Cache-Control and ETag from the bucket rule', async () => {
    const first = await get(`/${bucket}/site.css`, {});
    const res = await get(`/${bucket}/site.css`, { 'If-None-Match': String(first.headers.etag) });
    expect(res.status).toBe(304);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers.etag).toBe(first.headers.etag);
  });

  it('carries Vary for a representation chosen by Accept-Encoding', async () => {
    const first = await get(`/${bucket}/site.css`, { 'Accept-Encoding': 'br' });
    expect(first.headers['content-encoding']).toBe('br');
    const res = await get(`/${bucket}/site.css`, { 'Accept-Encoding': 'br', 'If-None-Match': String(first.headers.etag) });
    expect(res.status).toBe(304);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('carries Expires when the rule sets one', async () => {
    const first = await get(`/${bucket}/logo.png`, {});
    expect(first.headers.expires).toBeDefined();
    const res = await get(`/${bucket}/logo.png`, { 'If-Modified-Since': String(first.headers['last-modified']) });
    expect(res.status).toBe(304);
    expect(res.headers.expires).toBeDefined();
    expect(res.headers['cache-control']).toBe('public, max-age=86400');
  });
});

describe('the website endpoint without a bucket for the host', () => {
  it('names the host and says how to address a bucket', async () => {
    const res = await get('/', { Host: `nothere.localhost:${server.websitePort}` }, server.websitePort);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('NoSuchBucket');
    expect(res.body).toContain(`nothere.localhost:${server.websitePort}`);
    expect(res.body).toContain(`http://BUCKET.localhost:${server.websitePort}/`);
  });
});

describe('CORS together with variants and the website endpoint', () => {
  const origin = 'http://app.example';
  const splitVary = (v: unknown) => String(v).split(',').map((n) => n.trim());

  it('keeps Vary: Origin beside Vary: Accept-Encoding, on 200 and 304', async () => {
    const first = await get(`/${bucket}/site.css`, { Origin: origin, 'Accept-Encoding': 'br' });
    expect(first.headers['content-encoding']).toBe('br');
    expect(first.headers['access-control-allow-origin']).toBe(origin);
    expect(splitVary(first.headers.vary)).toEqual(expect.arrayContaining(['Origin', 'Accept-Encoding']));
    const again = await get(`/${bucket}/site.css`, { Origin: origin, 'Accept-Encoding': 'br', 'If-None-Match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(splitVary(again.headers.vary)).toEqual(expect.arrayContaining(['Origin', 'Accept-Encoding']));
  });

  it('answers the bucket CORS rules on the website endpoint, preflight included', async () => {
    const host = `${bucket}.localhost:${server.websitePort}`;
    const res = await get('/site.css', { Host: host, Origin: origin }, server.websitePort);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    const other = await get('/site.css', { Host: host, Origin: 'http://evil.example' }, server.websitePort);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await get('/site.css', { Host: host, Origin: origin, 'Access-Control-Request-Method': 'GET' }, server.websitePort, 'OPTIONS');
    expect(preflight.status).toBe(200);
    expect(preflight.headers['access-control-allow-methods']).toContain('GET');
    const refused = await get('/site.css', { Host: host, Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' }, server.websitePort, 'OPTIONS');
    expect(refused.status).toBe(403);
  });
});
