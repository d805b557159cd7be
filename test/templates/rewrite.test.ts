import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { rewriteSite } from '../../src/templates/rewrite.js';
import { rewriteCommand } from '../../src/cli/commands/rewrite.js';
import { isInMediaFolder } from '../../src/templates/site-files.js';
import type { Manifest } from '../../src/templates/manifest.js';

const STATIC = resolve(import.meta.dirname, '../fixtures/site/static');
const entry = (key: string) => ({ key, size: 1, contentType: 'x', integrity: 'sha384-x' });
const manifest: Manifest = {
  version: 1,
  files: {
    'css/site.css': entry('css/site.11111111.css'),
    'img/logo.png': entry('img/logo.22222222.png'),
    'img/bg.png': entry('img/bg.33333333.png'),
    'img/icon.png': entry('img/icon.44444444.png'),
    'js/app.js': entry('js/app.55555555.js'),
  },
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offload-rewrite-'));
  cpSync(STATIC, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (p: string) => readFileSync(join(dir, p), 'utf8');

describe('rewriteSite', () => {
  it('rewrites media references to hashed bucket URLs and leaves page links alone', async () => {
    const result = await rewriteSite({ dir, from: '/media/', to: 'https://media.example.com/', manifest });
    const html = read('index.html');
    expect(html).toContain('<link rel="icon" href="https://media.example.com/img/icon.44444444.png">');
    expect(html).toContain('<link rel="stylesheet" href="https://media.example.com/css/site.11111111.css">');
    expect(html).toContain('<link rel="stylesheet" href="/css/page.css">');
    expect(html).toContain('<link rel="canonical" href="https://www.example.com/">');
    expect(html).toContain('src="https://media.example.com/img/logo.22222222.png" srcset="https://media.example.com/img/logo.22222222.png 1x, https://media.example.com/img/logo.22222222.png?size=2 2x"');
    expect(html).toContain(`<div style="background: url('https://media.example.com/img/bg.33333333.png')">`);
    expect(html).toContain('<video poster="https://media.example.com/img/bg.33333333.png"><source src="https://media.example.com/video/intro.mp4"');
    expect(html).toContain('<a href="/media/docs/guide.html">');
    expect(html).toContain('<iframe src="/media/widget.html">');
    expect(html).toContain('<form action="/media/upload">');
    expect(html).toContain('<script src="https://media.example.com/js/app.55555555.js">');
    expect(read('css/page.css')).toBe('.hero { background-image: url(https://media.example.com/img/bg.33333333.png); }\n.plain { color: red; }\n');
    // Relative references from a page in a subfolder resolve to /media/ too.
    expect(read('blog/post.html')).toContain('href="https://media.example.com/css/site.11111111.css"');
    expect(read('blog/post.html')).toContain('<a href="../index.html">');
    expect(result.filesChanged).toEqual(['blog/post.html', 'css/page.css', 'index.html']);
    expect(result.changes).toContainEqual({ file: 'index.html', line: 7, old: '/media/css/site.css', new: 'https://media.example.com/css/site.11111111.css', use: 'stylesheet' });
    expect(result.warnings).toEqual(['index.html:14: video/intro.mp4 is not in the manifest; using the unhashed URL']);
  });

  it('--include-pages also rewrites links, iframes and forms; --dry-run writes nothing; --exclude skips files', async () => {
    const before = read('index.html');
    const dry = await rewriteSite({ dir, from: '/media', to: 'https://m.example/', includePages: true, dryRun: true, exclude: ['blog/**'] });
    expect(read('index.html')).toBe(before);
    expect(dry.filesChanged).toEqual(['css/page.css', 'index.html']);
    expect(dry.changes.map((c) => c.new)).toEqual(expect.arrayContaining(['https://m.example/docs/guide.html', 'https://m.example/widget.html', 'https://m.example/upload']));
  });

  it("knows the site's media folder: a path base, never the root", () => {
    expect(isInMediaFolder('media/css/a.css', '/media/')).toBe(true);
    expect(isInMediaFolder('media/css/a.css', '/media')).toBe(true);
    expect(isInMediaFolder('mediakit/a.css', '/media')).toBe(false);
    expect(isInMediaFolder('css/a.css', '/')).toBe(false);
    expect(isInMediaFolder('media/a.css', 'https://media.example.com/')).toBe(false);
  });

  it('the CLI prints file:line old → new', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const program = new Command().exitOverride().addCommand(rewriteCommand());
      await program.parseAsync(['rewrite', dir, '--from', '/media/', '--to', 'https://media.example.com/', '--exclude', 'blog/**'], { from: 'user' });
      const lines = log.mock.calls.map((c) => String(c[0]));
      expect(lines).toContain('css/page.css:1 /media/img/bg.png → https://media.example.com/img/bg.png');
      expect(lines).toContain('index.html:18 /media/js/app.js → https://media.example.com/js/app.js');
      expect(lines.at(-1)).toMatch(/^1\d reference\(s\) changed in 2 file\(s\)$/);
    } finally {
      log.mockRestore();
    }
  });
});
