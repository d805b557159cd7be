import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashFiles, hashedName } from '../../src/templates/hashing.js';
import { listMediaFiles } from '../../src/templates/site-files.js';
import { parseDuration, planHashedCleanup, unhashedKey, type Manifest } from '../../src/templates/manifest.js';

const FIXTURE_MEDIA = resolve(import.meta.dirname, '../fixtures/site/media');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'offload-hash-'));
  dirs.push(dir);
  const out = new Map<string, string>();
  for (const [p, body] of Object.entries(files)) {
    const full = join(dir, p);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, body);
    out.set(p, full);
  }
  return out;
}

const sha8 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 8);
const bodyOf = (f: { body?: Buffer; path: string }) => (f.body ?? readFileSync(f.path)).toString('utf8');

describe('hashFiles', () => {
  it('names leaves by the sha256 of their bytes and reports size, type and SRI', async () => {
    const { files, manifest } = await hashFiles(tree({ 'img/a.png': 'PNGDATA' }));
    const [f] = files;
    expect(f).toMatchObject({ logicalPath: 'img/a.png', hashedKey: `img/a.${sha8('PNGDATA')}.png`, size: 7, contentType: 'image/png', body: undefined });
    expect(f?.integrity).toBe(`sha384-${createHash('sha384').update('PNGDATA').digest('base64')}`);
    expect(manifest).toEqual({ version: 1, files: { 'img/a.png': { key: f?.hashedKey, size: 7, contentType: 'image/png', integrity: f?.integrity } } });
  });

  it('is stable: same bytes, same names, wherever the files live', async () => {
    const files = { 'css/a.css': '.a{background:url(../img/x.png)}', 'img/x.png': 'X' };
    const one = await hashFiles(tree(files));
    const two = await hashFiles(tree(files));
    expect(one.manifest).toEqual(two.manifest);
  });

  it('rewrites url(), @import and sourceMappingURL to hashed names, leaves first', async () => {
    const { manifest, files } = await hashFiles(
      tree({
        'css/site.css': '@import "fonts.css";\nbody{background:url(../img/bg.png?x=1#y)}\n.l{background:url("/media/img/logo.png")}\n.e{background:url(https://other.example/x.png)}\n/*# sourceMappingURL=site.css.map */',
        'css/site.css.map': '{}',
        'css/fonts.css': '@font-face{src:url(\'../fonts/f.woff2\') format("woff2")}',
        'fonts/f.woff2': 'FONT',
        'img/bg.png': 'BG',
        'img/logo.png': 'LOGO',
      }),
      { base: '/media/' },
    );
    const key = (p: string) => manifest.files[p]?.key;
    expect(key('fonts/f.woff2')).toBe(`fonts/f.${sha8('FONT')}.woff2`);
    const fonts = files.find((f) => f.logicalPath === 'css/fonts.css')!;
    expect(bodyOf(fonts)).toBe(`@font-face{src:url('../fonts/f.${sha8('FONT')}.woff2') format("woff2")}`);
    expect(key('css/fonts.css')).toBe(`css/fonts.${sha8(bodyOf(fonts))}.css`);
    const site = files.find((f) => f.logicalPath === 'css/site.css')!;
    expect(bodyOf(site)).toBe(
      `@import "${key('css/fonts.css')!.slice(4)}";\nbody{background:url(../img/bg.${sha8('BG')}.png?x=1#y)}\n.l{background:url("../img/logo.${sha8('LOGO')}.png")}\n.e{background:url(https://other.example/x.png)}\n/*# sourceMappingURL=${key('css/site.css.map')!.slice(4)} */`,
    );
    expect(key('css/site.css')).toBe(`css/site.${sha8(site.body!)}.css`);
    expect(site.size).toBe(site.body!.length);
    expect(site.contentType).toBe('text/css; charset=utf-8');
  });

  it('a changed leaf renames every file that references it, and only those', async () => {
    const before = await hashFiles(tree({ 'a.css': '@import "b.css";', 'b.css': '.b{background:url(x.png)}', 'x.png': '1', 'c.css': '.c{}' }));
    const after = await hashFiles(tree({ 'a.css': '@import "b.css";', 'b.css': '.b{background:url(x.png)}', 'x.png': '2', 'c.css': '.c{}' }));
    for (const p of ['a.css', 'b.css', 'x.png']) expect(after.manifest.files[p]?.key).not.toBe(before.manifest.files[p]?.key);
    expect(after.manifest.files['c.css']?.key).toBe(before.manifest.files['c.css']?.key);
  });

  it('handles reference cycles: names hashed together, references rewritten, a warning', async () => {
    const files = { 'a.css': '@import "b.css";.a{}', 'b.css': '@import "a.css";.b{}' };
    const one = await hashFiles(tree(files));
    const two = await hashFiles(tree({ ...files, 'b.css': '@import "a.css";.b{color:red}' }));
    expect(one.warnings[0]).toMatch(/cycle/);
    const a = one.files.find((f) => f.logicalPath === 'a.css')!;
    const b = one.files.find((f) => f.logicalPath === 'b.css')!;
    expect(bodyOf(a)).toBe(`@import "${b.hashedKey}";.a{}`);
    expect(bodyOf(b)).toBe(`@import "${a.hashedKey}";.b{}`);
    expect(two.manifest.files['a.css']?.key).not.toBe(a.hashedKey);
  });

  it('keeps HTML pages and the manifest unhashed by default', async () => {
    const { manifest } = await hashFiles(tree({ 'index.html': '<p>', 'offload-manifest.json': '{}' }));
    expect(manifest.files['index.html']?.key).toBe('index.html');
    expect(manifest.files['offload-manifest.json']?.key).toBe('offload-manifest.json');
  });

  it('hashes the fixture media folder', async () => {
    const { manifest, warnings } = await hashFiles(await listMediaFiles(FIXTURE_MEDIA), { base: '/media/' });
    expect(warnings).toEqual([]);
    expect(Object.keys(manifest.files).sort()).toEqual(['css/fonts.css', 'css/site.css', 'fonts/open-sans.woff2', 'img/bg.png', 'img/icon.png', 'img/logo.png', 'js/app.js', 'js/app.js.map']);
    for (const [p, e] of Object.entries(manifest.files)) expect(unhashedKey(e.key)).toBe(p);
  });
});

describe('manifest helpers', () => {
  it('hashedName and unhashedKey are inverses', () => {
    expect(hashedName('css/site.css', '3f2a9c1b')).toBe('css/site.3f2a9c1b.css');
    expect(hashedName('LICENSE', '3f2a9c1b')).toBe('LICENSE.3f2a9c1b');
    expect(unhashedKey('css/site.3f2a9c1b.css')).toBe('css/site.css');
    expect(unhashedKey('LICENSE.3f2a9c1b')).toBe('LICENSE');
    expect(unhashedKey('css/site.css')).toBeUndefined();
  });

  it('parseDuration', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(() => parseDuration('soon')).toThrow(/invalid duration/);
  });

  it('planHashedCleanup keeps recently replaced hashed keys and removes old ones', () => {
    const entry = (key: string) => ({ key, size: 1, contentType: 'text/css', integrity: 'sha384-x' });
    const now = new Date('2025-06-10T00:00:00Z');
    const days = (n: number) => new Date(now.getTime() - n * 86_400_000);
    const previous: Manifest = { version: 1, files: { 'a.css': entry('a.22222222.css') }, retired: { 'a.11111111.css': days(3).toISOString(), 'a.00000000.css': days(10).toISOString() } };
    const next: Manifest = { version: 1, files: { 'a.css': entry('a.33333333.css') } };
    const plan = planHashedCleanup({
      remote: [
        { key: 'media/a.33333333.css', lastModified: days(0) },
        { key: 'media/a.22222222.css', lastModified: days(30) },
        { key: 'media/a.11111111.css', lastModified: days(40) },
        { key: 'media/a.00000000.css', lastModified: days(50) },
        { key: 'media/a.44444444.css', lastModified: days(20) },
        { key: 'media/other.55555555.css', lastModified: days(50) },
        { key: 'media/a.css', lastModified: days(50) },
      ],
      previous,
      next,
      graceMs: parseDuration('7d'),
      now,
      prefix: 'media/',
    });
    expect(plan.keep.sort()).toEqual(['media/a.11111111.css', 'media/a.22222222.css']);
    expect(plan.remove.sort()).toEqual(['media/a.00000000.css', 'media/a.44444444.css']);
    expect(plan.retired).toEqual({ 'a.22222222.css': now.toISOString(), 'a.11111111.css': days(3).toISOString() });
  });
});
