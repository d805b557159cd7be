/**
 * `offload rewrite` then `offload check` on a built site whose media folder lives inside it
 * (dist/media/), against the real `offload serve`: a page rewrite produced passes check, rewriting
 * is idempotent, and the media folder is left alone so the next `sync --hash` uploads nothing.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, runCli, startOffload, tempDir, type CliResult, type S3Impl } from '../cli/harness.js';

const SITE_CSS = '.hero{background:url(/media/img/bg.png)}\n@font-face{font-family:f;src:url(../fonts/f.woff2)}\n';
const FILES: Record<string, string> = {
  'index.html': [
    '<!doctype html>',
    '<link rel="stylesheet" href="/media/css/site.css">',
    '<link rel="canonical" href="/media/">',
    '<img src="/media/img/logo.png" alt="">',
    '<a href="/media/docs/guide.html">guide</a>',
    '<iframe src="/media/widget.html"></iframe>',
    '<a href="/about/">about</a>',
  ].join('\n'),
  'media/css/site.css': SITE_CSS,
  'media/img/logo.png': 'png-logo',
  'media/img/bg.png': 'png-bg',
  'media/fonts/f.woff2': 'wOF2-font',
};

describe.skipIf(!builtCliExists())('rewrite then check', () => {
  let impl: S3Impl;
  let work: string;
  let cache: string;
  let dist: string;
  let manifest: string;
  const cli = (args: string[]) => runCli(impl, args, { cacheDir: cache });
  const ok = (r: CliResult) => expect(r.code, r.stdout + r.stderr).toBe(0);
  const base = () => `${impl.endpoint}/media/`;
  const syncMedia = () => cli(['sync', join(dist, 'media'), 's3://media', '--public', '--hash', '--hash-base', '/media/', '--manifest-out', manifest, '--json']);

  beforeAll(async () => {
    impl = await startOffload();
    work = tempDir('rewrite-check');
    cache = tempDir('rewrite-check-cache');
    dist = join(work, 'dist');
    manifest = join(work, 'offload-manifest.json');
    for (const [rel, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dist, rel)), { recursive: true });
      writeFileSync(join(dist, rel), text);
    }
    ok(await cli(['mb', 's3://media']));
    ok(await syncMedia());
  });

  afterAll(async () => {
    await impl?.stop();
    for (const d of [work, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('a page that rewrite produced passes check: page links, canonical and iframes stay and are not errors', async () => {
    ok(await cli(['rewrite', dist, '--from', '/media/', '--to', base(), '--manifest', manifest]));
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    expect(html).toMatch(new RegExp(`<link rel="stylesheet" href="${base()}css/site\\.[0-9a-f]{8}\\.css">`));
    expect(html).toContain('<link rel="canonical" href="/media/">');
    expect(html).toContain('<a href="/media/docs/guide.html">');
    expect(html).toContain('<iframe src="/media/widget.html">');
    const check = await cli(['check', dist, '--base', base(), '--endpoint', impl.endpoint, '--json']);
    expect(check.json).toEqual([]);
    ok(check);
  });

  it('leaves the media folder inside the site alone and is idempotent', async () => {
    expect(readFileSync(join(dist, 'media/css/site.css'), 'utf8')).toBe(SITE_CSS);
    const before = readFileSync(join(dist, 'index.html'), 'utf8');
    const again = await cli(['rewrite', dist, '--from', '/media/', '--to', base(), '--manifest', manifest]);
    ok(again);
    expect(again.stdout.trim()).toBe('0 reference(s) changed in 0 file(s)');
    expect(readFileSync(join(dist, 'index.html'), 'utf8')).toBe(before);
  });

  it('the next sync --hash of the media folder uploads nothing', async () => {
    const res = await syncMedia();
    ok(res);
    expect(res.json.filter((l) => l.op === 'upload' || l.op === 'headers')).toEqual([]);
  });

  it('check still flags media references left at the old path', async () => {
    writeFileSync(join(dist, 'late.html'), '<img src="/media/img/logo.png">\n<a href="/media/docs/">docs</a>');
    const check = await cli(['check', dist, '--base', base(), '--endpoint', impl.endpoint, '--json']);
    expect(check.code).toBe(1);
    expect(check.json.map((p) => [p.file, p.line, p.code])).toEqual([['late.html', 1, 'old-base']]);
    rmSync(join(dist, 'late.html'));
    expect((await fetch(`${impl.endpoint}/media/img/logo.png`)).status).toBe(200);
  });
});
