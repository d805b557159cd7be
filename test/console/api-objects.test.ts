/**
 * Buckets and objects through the console API, against the real server: every endpoint's happy
 * path, object names shown as text (the XSS key), the inline preview's sandbox, and a key
 * without rights refused with a 403 JSON answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, signedIn, startConsoleServer, type ConsoleClient, type ConsoleServer } from './api-client.js';

const XSS_KEY = '<img src=x onerror=alert(1)>.png';

let server: ConsoleServer;
let root: ConsoleClient;

beforeAll(async () => {
  server = await startConsoleServer();
  root = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

const put = (bucket: string, key: string, body: string, type?: string, extra = '') =>
  root.json('PUT', `/buckets/${bucket}/put?key=${encodeURIComponent(key)}${extra}`, { body: new TextEncoder().encode(body), headers: type ? { 'content-type': type } : {} });

describe('console buckets', () => {
  it('creates, lists (size, objects, public), makes public and private, deletes', async () => {
    expect((await root.json('POST', '/buckets', { json: { name: 'photos' } })).status).toBe(201);
    const made = await root.json('POST', '/buckets', { json: { name: 'site-media', public: true } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'site-media', public: true, objects: 0, bytes: 0 });
    expect((await put('photos', 'a.txt', 'hello')).status).toBe(201);
    const list = await root.json<{ buckets: { name: string; objects: number; bytes: number; public: boolean; website: boolean }[] }>('GET', '/buckets');
    expect(list.status).toBe(200);
    expect(list.body.buckets).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'photos', objects: 1, bytes: 5, public: false, website: false }),
      expect.objectContaining({ name: 'site-media', public: true }),
    ]));
    // Public: a visitor reads objects; private again: refused.
    expect((await put('site-media', 'logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')).status).toBe(201);
    const anonymous = await fetch(`${server.endpoint}/site-media/logo.svg`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const priv = await root.json('PUT', '/buckets/site-media/public', { json: { public: false } });
    expect(priv.body).toEqual({ name: 'site-media', public: false });
    expect((await fetch(`${server.endpoint}/site-media/logo.svg`)).status).toBe(403);
    expect((await root.json('PUT', '/buckets/site-media/public', { json: { public: true } })).body).toEqual({ name: 'site-media', public: true });
    // Delete: refused while not empty, then with the typed confirmation.
    const notEmpty = await root.json('DELETE', '/buckets/site-media');
    expect(notEmpty.status).toBe(409);
    expect(errorCode(notEmpty.body)).toBe('BucketNotEmpty');
    const badConfirm = await root.json('DELETE', '/buckets/site-media?empty=1', { json: { confirm: 'site' } });
    expect(badConfirm.status).toBe(400);
    const emptied = await root.json('DELETE', '/buckets/site-media?empty=1', { json: { confirm: 'site-media' } });
    expect(emptied.status).toBe(200);
    expect((await root.json('GET', '/buckets/site-media/objects')).status).toBe(404);
  });

  it('answers a bad bucket name as 400 with the S3 code', async () => {
    const bad = await root.json('POST', '/buckets', { json: { name: 'Bad_Name' } });
    expect(bad.status).toBe(400);
    expect(errorCode(bad.body)).toBe('InvalidBucketName');
  });
});

describe('console objects', () => {
  beforeAll(async () => {
    await root.json('POST', '/buckets', { json: { name: 'browse' } });
    for (const key of ['docs/a.txt', 'docs/b.txt', 'img/c.png', 'top.css', 'z.bin']) await put('browse', key, `bytes of ${key}`);
  });

  it('lists by folder, pages with a token, sorts within the page', async () => {
    const top = await root.json<{ folders: string[]; objects: { key: string; contentType: string; size: number; etag: string }[]; next?: string }>('GET', '/buckets/browse/objects?delimiter=/');
    expect(top.status).toBe(200);
    expect(top.body.folders).toEqual(['docs/', 'img/']);
    expect(top.body.objects.map((o) => [o.key, o.contentType])).toEqual([['top.css', 'text/css; charset=utf-8'], ['z.bin', 'application/octet-stream']]);
    const docs = await root.json<{ objects: { key: string }[] }>('GET', '/buckets/browse/objects?prefix=docs/&sort=name&order=desc');
    expect(docs.body.objects.map((o) => o.key)).toEqual(['docs/b.txt', 'docs/a.txt']);
    const page1 = await root.json<{ objects: { key: string }[]; next?: string }>('GET', '/buckets/browse/objects?delimiter=&limit=2');
    expect(page1.body.objects).toHaveLength(2);
    expect(page1.body.next).toBeTruthy();
    const page2 = await root.json<{ objects: { key: string }[] }>('GET', `/buckets/browse/objects?delimiter=&limit=2&after=${encodeURIComponent(page1.body.next!)}`);
    expect(page2.body.objects.map((o) => o.key)).toEqual(['img/c.png', 'top.css']);
  });

  it('shows one object: size, type, ETag, dates, headers, public state and URL', async () => {
    const got = await root.json('GET', `/buckets/browse/object?key=${encodeURIComponent('docs/a.txt')}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ key: 'docs/a.txt', size: 'bytes of docs/a.txt'.length, contentType: 'text/plain; charset=utf-8', public: false, publicUrl: `${server.endpoint}/browse/docs/a.txt` });
    expect(got.body.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(Date.parse(got.body.lastModified as string)).toBeGreaterThan(0);
    const missing = await root.json('GET', '/buckets/browse/object?key=nope');
    expect(missing.status).toBe(404);
    expect(errorCode(missing.body)).toBe('NoSuchKey');
  });

  it('downloads as an attachment, and previews inline under a sandboxing CSP', async () => {
    const res = await root.request('GET', `/buckets/browse/download?key=${encodeURIComponent('docs/a.txt')}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('bytes of docs/a.txt');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="a.txt"; filename*=UTF-8''a.txt`);
    await put('browse', 'evil.html', '<script>alert(document.cookie)</script>', 'text/html');
    await put('browse', 'evil.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'image/svg+xml');
    for (const key of ['evil.html', 'evil.svg']) {
      const preview = await root.request('GET', `/buckets/browse/download?key=${key}&inline=1`);
      expect(preview.status).toBe(200);
      expect(preview.headers.get('content-disposition')).toMatch(/^inline; /);
      const csp = preview.headers.get('content-security-policy')!;
      expect(csp).toMatch(/^sandbox; /);
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('script-src');
      expect(preview.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const ranged = await root.request('GET', `/buckets/browse/download?key=${encodeURIComponent('docs/a.txt')}&inline=1`, { headers: { range: 'bytes=0-4' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('bytes');
  });

  it('stores the XSS key and returns it as plain JSON text', async () => {
    expect((await put('browse', XSS_KEY, 'png?')).status).toBe(201);
    const res = await root.request('GET', '/buckets/browse/objects?prefix=%3C');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await res.text();
    const parsed = JSON.parse(text) as { objects: { key: string; contentType: string }[] };
    expect(parsed.objects.map((o) => o.key)).toEqual([XSS_KEY]);
    expect(parsed.objects[0]!.contentType).toBe('image/png');
    const one = await root.json('GET', `/buckets/browse/object?key=${encodeURIComponent(XSS_KEY)}`);
    expect(one.body.key).toBe(XSS_KEY);
  });

  it('changes Content-Type and Cache-Control (keeping metadata), makes one object public, renames, deletes many', async () => {
    await root.json('PUT', `/buckets/browse/put?key=meta.txt`, { body: new TextEncoder().encode('meta'), headers: { 'content-type': 'text/plain' } });
    const patched = await root.json('PATCH', '/buckets/browse/object?key=meta.txt', { json: { contentType: 'text/markdown', cacheControl: 'max-age=60' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ contentType: 'text/markdown', cacheControl: 'max-age=60', cacheControlFrom: 'object', public: false });
    const pub = await root.json('PATCH', '/buckets/browse/object?key=meta.txt', { json: { public: true } });
    expect(pub.body.public).toBe(true);
    const visitor = await fetch(`${server.endpoint}/browse/meta.txt`);
    expect(visitor.status).toBe(200);
    expect(visitor.headers.get('cache-control')).toBe('max-age=60');
    const renamed = await root.json('POST', '/buckets/browse/rename', { json: { from: 'meta.txt', to: 'notes/meta.md' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ key: 'notes/meta.md', contentType: 'text/markdown', public: true });
    expect((await root.json('GET', '/buckets/browse/object?key=meta.txt')).status).toBe(404);
    const clash = await root.json('POST', '/buckets/browse/rename', { json: { from: 'top.css', to: 'z.bin' } });
    expect(clash.status).toBe(409);
    const deleted = await root.json<{ deleted: string[]; errors: unknown[] }>('POST', '/buckets/browse/delete', { json: { keys: ['docs/a.txt', 'docs/b.txt'] } });
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted.sort()).toEqual(['docs/a.txt', 'docs/b.txt']);
    expect(deleted.body.errors).toEqual([]);
  });

  it('refuses a key without rights on the bucket with a 403 JSON answer (and a plain message)', async () => {
    const made = await root.json<{ accessKeyId: string; secretAccessKey: string }>('POST', '/keys', { json: { name: 'outsider', access: 'all' } });
    expect(made.status).toBe(201);
    const outsider = await signedIn(server.consoleOrigin, made.body.accessKeyId, made.body.secretAccessKey);
    for (const [method, path, json] of [
      ['GET', '/buckets/browse/objects', undefined],
      ['GET', '/buckets/browse/object?key=top.css', undefined],
      ['POST', '/buckets/browse/delete', { keys: ['top.css'] }],
      ['PUT', '/buckets/browse/public', { public: true }],
      ['GET', '/keys', undefined],
    ] as const) {
      const answer = await outsider.json(method, path, { json });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(errorCode(answer.body)).toBe('AccessDenied');
      expect((answer.body as { error: { message: string } }).error.message).toMatch(/not allowed/);
    }
    const own = await outsider.json<{ buckets: { name: string }[] }>('GET', '/buckets');
    expect(own.body.buckets).toEqual([]);
    expect((await root.json('GET', '/buckets/browse/object?key=top.css')).status).toBe(200);
  });
});
