/**
 * Header values built from input: response-* overrides, stored metadata, website redirects.
 * A value HTTP cannot carry is a 400 InvalidArgument, never a 500 with a stack trace, and a
 * stored redirect is only ever `/...`, `http://...` or `https://...`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CreateBucketCommand, HeadObjectCommand, PutBucketPolicyCommand, PutBucketWebsiteCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { expectAlive, expectError, signed, startHarness, type Harness } from './input-harness.js';

let h: Harness;
const bucket = 'values';

beforeAll(async () => {
  h = await startHarness();
  await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'hello' }));
});
afterAll(async () => {
  await h?.stop();
});

describe('response-* overrides', () => {
  const params = ['response-content-type', 'response-content-language', 'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding'];

  it.each(params)('%s with CR/LF is 400 InvalidArgument and logs no stack trace', async (param) => {
    await expectError(signed(h, 'GET', `/${bucket}/a.txt`, { query: { [param]: '\r\nX-Evil: 1' } }), 400, 'InvalidArgument');
    await expectError(signed(h, 'GET', `/${bucket}/a.txt`, { query: { [param]: 'a\u0000b' } }), 400, 'InvalidArgument');
    await expectError(signed(h, 'GET', `/${bucket}/a.txt`, { query: { [param]: 'caf\u00e9 \u65e5\u672c' } }), 400, 'InvalidArgument');
    expect(h.log()).not.toMatch(/\n\s+at /);
    expect(h.log()).not.toContain('internal error');
  });

  it('valid overrides still apply', async () => {
    const res = await signed(h, 'GET', `/${bucket}/a.txt`, { query: { 'response-content-type': 'text/plain; charset=utf-8', 'response-content-disposition': 'attachment; filename="a b.txt"' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="a b.txt"');
    expect(res.headers['x-evil']).toBeUndefined();
  });
});

describe('x-amz-website-redirect-location', () => {
  const bad = ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html,<script>1</script>', 'ftp://example.com/', 'example.com/page', '\\\\evil.example/', `/${'a'.repeat(2048)}`];

  it.each(bad)('PutObject with %j is 400 InvalidRedirectLocation', async (location) => {
    await expectError(signed(h, 'PUT', `/${bucket}/r.html`, { headers: { 'x-amz-website-redirect-location': location }, body: '' }), 400, 'InvalidRedirectLocation');
  });

  it('CopyObject (COPY and REPLACE) and CreateMultipartUpload refuse it too', async () => {
    const copy = { 'x-amz-copy-source': `/${bucket}/a.txt`, 'x-amz-website-redirect-location': 'javascript:alert(1)' };
    await expectError(signed(h, 'PUT', `/${bucket}/r.html`, { headers: copy }), 400, 'InvalidRedirectLocation');
    await expectError(signed(h, 'PUT', `/${bucket}/r.html`, { headers: { ...copy, 'x-amz-metadata-directive': 'REPLACE' } }), 400, 'InvalidRedirectLocation');
    await expectError(signed(h, 'POST', `/${bucket}/r.html`, { query: { uploads: '' }, headers: { 'x-amz-website-redirect-location': 'javascript:alert(1)' } }), 400, 'InvalidRedirectLocation');
  });

  it.each(['/other.html', 'http://example.com/x', 'https://example.com/x?y=1'])('accepts %j', async (location) => {
    await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ok.html', Body: '', WebsiteRedirectLocation: location }));
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ok.html' }));
    expect(head.WebsiteRedirectLocation).toBe(location);
  });
});

describe('website configuration host names', () => {
  it.each(['evil.example&#13;&#10;Set-Cookie: a=b', 'evil.example/path', 'user@evil.example', 'javascript:alert(1)', 'a b.example', ''])('HostName %j is 400 InvalidArgument', async (host) => {
    const redirectAll = `<WebsiteConfiguration><RedirectAllRequestsTo><HostName>${host}</HostName></RedirectAllRequestsTo></WebsiteConfiguration>`;
    await expectError(signed(h, 'PUT', `/${bucket}`, { query: { website: '' }, body: redirectAll }), 400, 'InvalidArgument');
    const rule = `<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument><RoutingRules><RoutingRule><Redirect><HostName>${host}</HostName></Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>`;
    await expectError(signed(h, 'PUT', `/${bucket}`, { query: { website: '' }, body: rule }), 400, 'InvalidArgument');
  });

  it('a host name with a port is accepted', async () => {
    const body = '<WebsiteConfiguration><RedirectAllRequestsTo><HostName>www.example.com:8080</HostName><Protocol>https</Protocol></RedirectAllRequestsTo></WebsiteConfiguration>';
    expect((await signed(h, 'PUT', `/${bucket}`, { query: { website: '' }, body })).status).toBe(200);
    expect((await signed(h, 'DELETE', `/${bucket}`, { query: { website: '' } })).status).toBe(204);
  });
});

describe('POST form success_action_redirect', () => {
  it('a redirect with CR/LF is ignored (204), never a 500 or a split header', async () => {
    await h.s3.send(new CreateBucketCommand({ Bucket: 'values-open', ACL: 'public-read-write' }));
    const form = new FormData();
    form.append('key', 'posted.txt');
    form.append('success_action_redirect', 'http://example.com/ok\r\nSet-Cookie: a=b');
    form.append('file', new Blob(['posted']), 'f.txt');
    const res = await fetch(`${h.server.endpoint}/values-open`, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('stored metadata', () => {
  it('a PUT keeps UTF-8 metadata (sent as raw bytes) and serves it back', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm.txt', Body: 'x', Metadata: { note: 'plain' }, ContentDisposition: 'attachment; filename="r.txt"' }));
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'm.txt' }));
    expect(head.Metadata).toEqual({ note: 'plain' });
    await expectAlive(h, bucket);
  });
});

describe('the website endpoint with a redirect stored before validation', () => {
  let web: TestServer;

  function get(path: string): Promise<{ status: number; location?: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: web.websitePort, path, headers: { Host: 'legacy.localhost' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the object instead of redirecting to javascript:', async () => {
    web = await startServer({ args: ['--website-port', '0'] });
    const s3 = sdkClient(web);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'legacy' }));
      await s3.send(new PutBucketPolicyCommand({ Bucket: 'legacy', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::legacy/*' }] }) }));
      await s3.send(new PutBucketWebsiteCommand({ Bucket: 'legacy', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
      await s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: 'evil.html', Body: 'page', ContentType: 'text/html', WebsiteRedirectLocation: '/safe.html' }));
      await s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: 'good.html', Body: 'page', ContentType: 'text/html', WebsiteRedirectLocation: '/safe.html' }));
      await s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: 'broken.txt', Body: 'x', Metadata: { note: 'plain' } }));
      await web.stop({ keepData: true });
      // What an older version could have stored: edit the metadata as it lies on disk.
      const db = new Database(join(web.dataDir, 'meta.db'));
      const row = db.prepare('SELECT meta FROM objects WHERE bucket = ? AND key = ?').get('legacy', 'evil.html') as { meta: string };
      db.prepare('UPDATE objects SET meta = ? WHERE bucket = ? AND key = ?').run(row.meta.replace('/safe.html', 'javascript:alert(1)'), 'legacy', 'evil.html');
      const broken = db.prepare('SELECT meta FROM objects WHERE bucket = ? AND key = ?').get('legacy', 'broken.txt') as { meta: string };
      db.prepare('UPDATE objects SET meta = ? WHERE bucket = ? AND key = ?').run(broken.meta.replace('"plain"', '"a\\r\\nX-Evil: 1"'), 'legacy', 'broken.txt');
      db.close();
      web = await startServer({ dataDir: web.dataDir, args: ['--website-port', '0'] });
      let stderr = '';
      web.process.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      // A stored value Node cannot write: an InternalError, logged on one line without a stack trace.
      const anonymous = await fetch(`${web.endpoint}/legacy/broken.txt`);
      expect(anonymous.status).toBe(500);
      expect(anonymous.headers.get('x-evil')).toBeNull();
      await new Promise((r) => setTimeout(r, 100));
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^offload: internal error \S+ GET \/legacy\/broken.txt: TypeError ERR_INVALID_CHAR/);
      const evil = await get('/evil.html');
      expect(evil.status).toBe(200);
      expect(evil.location).toBeUndefined();
      expect(evil.body).toBe('page');
      const good = await get('/good.html');
      expect(good).toMatchObject({ status: 301, location: '/safe.html' });
    } finally {
      s3.destroy();
      await web.stop();
    }
  });
});
