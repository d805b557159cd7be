/**
 * The whole media workflow on real trees against the real `offload serve`: the Python 3 HTML docs
 * (Debian python3-doc, ~1,000 files, 64 MiB) and Django's admin static files (python3-django).
 * `offload sync --public --hash --precompress` with bucket cache rules for fonts and images, then
 * what a client receives (Content-Type, Cache-Control, encodings), a no-change re-run that uploads
 * and compresses nothing, and a change plus a deletion handled exactly with `--delete`.
 *
 * Outside CI a missing tree skips the test; in CI (process.env.CI) it fails, so a runner without
 * the packages cannot pass silently.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { get as httpGet } from 'node:http';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, objectUrl, runCli, startOffload, tempDir, type CliResult, type S3Impl } from '../cli/harness.js';
import { IMMUTABLE } from '../../src/cli/s3/rules.js';
import { DEFAULT_CACHE_CONTROL } from '../../src/media/cache-rules.js';
import type { Manifest } from '../../src/templates/manifest.js';

const PYTHON_DOCS = '/usr/share/doc/python3/html';
const DJANGO_ADMIN = '/usr/lib/python3/dist-packages/django/contrib/admin/static/admin';
const FONT_RULE = 'public, max-age=31536000, immutable';
const IMAGE_RULE = 'public, max-age=86400';
const HEAVY = 240_000;

const trees = [
  { name: 'Python HTML docs', source: PYTHON_DOCS, prefix: 'python', pkg: 'python3-doc' },
  { name: 'Django admin static files', source: DJANGO_ADMIN, prefix: 'django', pkg: 'python3-django' },
];
const missing = trees.filter((t) => !existsSync(t.source));
const runHere = builtCliExists() && (missing.length === 0 || !!process.env.CI);

function rawGet(url: string, acceptEncoding?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe.skipIf(!runHere)('the media workflow on real sites', () => {
  let impl: S3Impl;
  let work: string;
  let cache: string;
  const bucket = 'media-flow';
  const cli = (args: string[]) => runCli(impl, args, { cacheDir: cache });
  const ok = (r: CliResult) => expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const local = (prefix: string) => join(work, prefix);
  const sync = (prefix: string, ...extra: string[]) =>
    cli(['sync', local(prefix), `s3://${bucket}/${prefix}`, '--public', '--hash', '--precompress', '--json', ...extra]);
  const summary = (r: CliResult) => r.json.find((l) => l.op === 'summary')!;
  const keysOf = (r: CliResult, op: string) => r.json.filter((l) => l.op === op).map((l) => l.key as string).sort();
  const served = async (prefix: string, rel: string) => {
    const res = await fetch(objectUrl(impl, bucket, `${prefix}/${rel}`));
    expect(res.status, rel).toBe(200);
    await res.arrayBuffer();
    return { type: res.headers.get('content-type'), cache: res.headers.get('cache-control') };
  };
  const manifestOf = async (prefix: string) => (await (await fetch(objectUrl(impl, bucket, `${prefix}/offload-manifest.json`))).json()) as Manifest;

  beforeAll(async () => {
    if (missing.length) throw new Error(`missing test trees: ${missing.map((t) => `${t.source} (apt-get install ${t.pkg})`).join(', ')}`);
    impl = await startOffload();
    work = tempDir('media-flow');
    cache = tempDir('media-flow-cache');
    // Copies, with symlinks (Debian links jquery from libjs-jquery) resolved: the test edits them.
    for (const t of trees) execFileSync('cp', ['-rL', t.source, local(t.prefix)]);
    ok(await cli(['mb', `s3://${bucket}`]));
    ok(await cli(['bucket', 'rules', `s3://${bucket}`, '--add', `font/*=${FONT_RULE}`, '--add', `image/*=${IMAGE_RULE}`]));
  }, HEAVY);

  afterAll(async () => {
    await impl?.stop();
    for (const d of [work, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('uploads both trees with siblings and hashed copies', async () => {
    for (const t of trees) {
      const res = await sync(t.prefix, '--quiet');
      ok(res);
      const s = summary(res);
      expect(s.failed).toBe(0);
      expect(s.uploaded as number).toBeGreaterThan(100);
      expect(s.compressed as number).toBeGreaterThan(100);
      expect(s.shadowed).toBe(0);
    }
  }, HEAVY);

  it('serves the Python docs with the right types and the cache header the precedence gives', async () => {
    expect(await served('python', 'index.html')).toEqual({ type: 'text/html; charset=utf-8', cache: DEFAULT_CACHE_CONTROL.html });
    expect(await served('python', '_static/pygments.css')).toEqual({ type: 'text/css; charset=utf-8', cache: DEFAULT_CACHE_CONTROL.text });
    expect(await served('python', '_static/py.png')).toEqual({ type: 'image/png', cache: IMAGE_RULE });
    expect(await served('python', '_static/py.svg')).toEqual({ type: 'image/svg+xml; charset=utf-8', cache: IMAGE_RULE });
    const manifest = await manifestOf('python');
    const hashedCss = manifest.files['_static/pygments.css']!.key;
    expect(hashedCss).not.toBe('_static/pygments.css');
    expect(await served('python', hashedCss)).toEqual({ type: 'text/css; charset=utf-8', cache: IMMUTABLE });
    const hashedPng = manifest.files['_static/py.png']!.key;
    expect(await served('python', hashedPng)).toEqual({ type: 'image/png', cache: IMMUTABLE });
    const br = await rawGet(objectUrl(impl, bucket, 'python/index.html'), 'br, gzip');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['cache-control']).toBe(DEFAULT_CACHE_CONTROL.html);
    expect(brotliDecompressSync(br.body).equals(readFileSync(join(local('python'), 'index.html')))).toBe(true);
  });

  it('serves the Django admin files: fonts and images by the bucket rules, hashed copies immutable', async () => {
    expect(await served('django', 'fonts/Roboto-Regular-webfont.woff')).toEqual({ type: 'font/woff', cache: FONT_RULE });
    expect(await served('django', 'img/icon-yes.svg')).toEqual({ type: 'image/svg+xml; charset=utf-8', cache: IMAGE_RULE });
    expect(await served('django', 'css/base.css')).toEqual({ type: 'text/css; charset=utf-8', cache: DEFAULT_CACHE_CONTROL.text });
    expect(await served('django', 'js/core.js')).toEqual({ type: 'text/javascript; charset=utf-8', cache: DEFAULT_CACHE_CONTROL.text });
    const manifest = await manifestOf('django');
    expect(await served('django', manifest.files['css/base.css']!.key)).toEqual({ type: 'text/css; charset=utf-8', cache: IMMUTABLE });
    expect(await served('django', manifest.files['fonts/Roboto-Regular-webfont.woff']!.key)).toEqual({ type: 'font/woff', cache: IMMUTABLE });
    const gz = await rawGet(objectUrl(impl, bucket, 'django/css/base.css'), 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
  });

  it('a no-change re-run uploads nothing and compresses nothing', async () => {
    for (const t of trees) {
      const res = await sync(t.prefix, '--delete');
      ok(res);
      expect(summary(res)).toMatchObject({ uploaded: 0, headers: 0, deleted: 0, failed: 0, compressed: 0 });
    }
  }, HEAVY);

  it('a changed file and a deleted file are exactly what is handled with --delete', async () => {
    const changed = '_sources/about.rst.txt';
    const deleted = 'bugs.html';
    appendFileSync(join(local('python'), changed), '\nOne more line.\n');
    rmSync(join(local('python'), deleted));
    const res = await sync('python', '--delete');
    ok(res);
    const manifest = await manifestOf('python');
    const hashed = manifest.files[changed]!.key;
    const generated = (key: string) => [key, `${key}.br`, `${key}.gz`].map((k) => `python/${k}`);
    const expected = hashed === changed ? generated(changed) : [...generated(changed), ...generated(hashed)];
    expect(keysOf(res, 'upload')).toEqual([...expected, 'python/offload-manifest.json'].sort());
    expect(keysOf(res, 'delete')).toEqual(generated(deleted).sort());
    expect(summary(res)).toMatchObject({ headers: 0, failed: 0, compressed: 2 }); // br and gzip of the changed bytes, once for the file and its hashed copy
    // Gone: anonymous readers of a bucket without public listing get S3's 403 for a missing key.
    expect((await fetch(objectUrl(impl, bucket, `python/${deleted}`))).status).toBe(403);
    expect((await rawGet(objectUrl(impl, bucket, `python/${changed}`))).body.toString('utf8')).toContain('One more line.');
  }, HEAVY);
});
