/**
 * The built front end (dist/console-ui/, from `npm run build`) keeps its promises: under 300 KB
 * gzipped, index.html loads only files of its own (no CDN, no inline script or style, which the
 * console's CSP would refuse), and the code has no eval or Function constructor.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = join(import.meta.dirname, '../../dist/console-ui');

describe.skipIf(!existsSync(DIST) && !process.env.CI)('the built console front end', () => {
  const files = () => readdirSync(DIST);
  const read = (f: string) => readFileSync(join(DIST, f));

  it('is under 300 KB gzipped in all', () => {
    const total = files().reduce((sum, f) => sum + gzipSync(read(f)).length, 0);
    expect(total).toBeGreaterThan(5_000);
    expect(total).toBeLessThan(300 * 1024);
  });

  it('index.html links only its own hashed files: no inline script or style, no other origin', () => {
    const html = read('index.html').toString('utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(body!.trim()).toBe('');
      expect(attrs).toMatch(/src="\/_offload\/console\/main-[A-Z0-9]+\.js"/);
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const [, ref] of html.matchAll(/(?:src|href)="\/_offload\/console\/([^"]+)"/g)) expect(files()).toContain(ref);
  });

  it('the scripts use no eval and no Function constructor', () => {
    for (const f of files().filter((name) => name.endsWith('.js'))) {
      const code = read(f).toString('utf8');
      expect(code, f).not.toMatch(/\beval\(|new Function\(/);
    }
  });
});
