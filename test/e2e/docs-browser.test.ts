/**
 * The Python HTML docs (Debian python3-doc) as a real site: `offload sync --public --hash
 * --precompress` through the real CLI, the bucket's website configuration, and headless Chromium
 * loading pages from the website endpoint (`docs.localhost:PORT`). Every request must succeed and
 * stylesheets and scripts must arrive brotli-compressed (the precompressed `.br` siblings).
 *
 * Outside CI a missing tree or Chromium skips the test; in CI (process.env.CI) it fails.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PutBucketWebsiteCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, client, runCli, tempDir, type CliResult } from '../cli/harness.js';
import { launchChromium, missingOf, PYTHON_TREE, startOffloadWithWebsite, websiteGet, type HeadlessChromium, type WebsiteImpl } from './_trees.js';

const HEAVY = 240_000;
const BUCKET = 'docs';
const missing = missingOf([PYTHON_TREE], true);
const runHere = builtCliExists() && (missing.length === 0 || !!process.env.CI);

interface PageLoad {
  failed: string[];
  statuses: Map<string, number>;
  encodings: Map<string, string | undefined>;
  scripts: string;
  emptySheets: number;
}

describe.skipIf(!runHere)('the Python docs in a browser, from the website endpoint', () => {
  let impl: WebsiteImpl;
  let chromium: HeadlessChromium;
  let work: string;
  let cache: string;
  const ok = (r: CliResult) => expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const site = () => `http://${BUCKET}.localhost:${impl.websitePort}/`;

  beforeAll(async () => {
    if (missing.length) throw new Error(`missing for this test: ${missing.join(', ')}`);
    impl = await startOffloadWithWebsite();
    work = tempDir('docs-browser');
    cache = tempDir('docs-browser-cache');
    // A copy with Debian's symlinks (jquery.js, underscore.js from libjs-*) resolved.
    execFileSync('cp', ['-rL', PYTHON_TREE.source, join(work, 'html')]);
    const cli = (args: string[]) => runCli(impl, args, { cacheDir: cache });
    ok(await cli(['mb', `s3://${BUCKET}`]));
    ok(await cli(['sync', join(work, 'html'), `s3://${BUCKET}`, '--public', '--hash', '--precompress', '--quiet']));
    await client(impl).send(new PutBucketWebsiteCommand({ Bucket: BUCKET, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    chromium = await launchChromium();
  }, HEAVY);

  afterAll(async () => {
    await chromium?.close();
    await impl?.stop();
    for (const d of [work, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  async function load(url: string): Promise<PageLoad> {
    const page = await chromium.context.newPage();
    const seen: PageLoad = { failed: [], statuses: new Map(), encodings: new Map(), scripts: '', emptySheets: -1 };
    page.on('requestfailed', (req) => seen.failed.push(`${req.url()}: ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      seen.statuses.set(res.url(), res.status());
      seen.encodings.set(res.url(), res.headers()['content-encoding']);
    });
    try {
      const res = await page.goto(url, { waitUntil: 'load' });
      expect(res?.status(), url).toBe(200);
      // Stylesheets @import each other (pydoctheme -> default -> classic -> basic): let them land.
      await page.waitForLoadState('networkidle');
      // The decoded bytes work: the scripts ran, and every stylesheet parsed into rules.
      // (Browser-side code as strings: this project's TypeScript has no DOM lib.)
      seen.scripts = await page.evaluate<string>('typeof window.jQuery + "," + typeof window.DOCUMENTATION_OPTIONS');
      seen.emptySheets = await page.evaluate<number>('[...document.styleSheets].filter((s) => s.cssRules.length === 0).length');
    } finally {
      await page.close();
    }
    return seen;
  }

  // Debian ships one page only gzipped, whatsnew/changelog.html.gz: the pages below link to
  // whatsnew/changelog.html (tutorial/index.html as rel="prev"), which a browser does not fetch
  // on load, so no request here may fail.
  it.each(['', 'library/functions.html', 'tutorial/index.html'])('loads /%s with every request answered and CSS/JS in br', async (path) => {
    const seen = await load(site() + path);
    expect(seen.failed).toEqual([]);
    expect(seen.scripts).toBe('function,object');
    expect(seen.emptySheets).toBe(0);
    for (const [url, status] of seen.statuses) expect(status, url).toBeLessThan(400);
    const assets = [...seen.statuses.keys()].filter((u) => /\.(css|js)(\?|$)/.test(new URL(u).pathname + new URL(u).search));
    expect(assets.length).toBeGreaterThanOrEqual(10); // 4 stylesheets and 9+ scripts per page
    for (const url of assets) {
      const size = statSync(join(work, 'html', decodeURIComponent(new URL(url).pathname))).size;
      // sync stores a .br sibling only when it is smaller: _static/default.css is a 28-byte @import.
      if (size >= 512) expect(seen.encodings.get(url), url).toBe('br');
    }
    expect(seen.encodings.get(`${site()}_static/default.css`)).toBeUndefined();
    expect(seen.statuses.has(`${site()}_static/basic.css`), 'the last @import').toBe(true);
  }, HEAVY);

  it('the server is still alive afterwards', async () => {
    const res = await websiteGet(impl.websitePort, `${BUCKET}.localhost`, '/');
    expect(res.status).toBe(200);
    expect(res.body.toString('utf8')).toContain('Python');
  });
});
