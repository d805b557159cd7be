/**
 * Web fonts are fetched in CORS mode: a page on another origin (a tiny node:http server on its
 * own loopback port) whose @font-face points at a Django admin font in the bucket gets the font
 * only after `offload cors s3://bucket --origin <that origin>`. Before, Chromium refuses it (the
 * request fails, document.fonts reports the face as "error"). Checked on the S3 API endpoint
 * (path-style URL) and on the website endpoint (`admin.localhost:PORT`).
 *
 * Outside CI a missing tree or Chromium skips the test; in CI (process.env.CI) it fails.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { DeleteBucketCorsCommand, PutBucketWebsiteCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, client, objectUrl, runCli, tempDir, type CliResult } from '../cli/harness.js';
import { DJANGO_TREE, launchChromium, missingOf, startOffloadWithWebsite, websiteGet, type WebsiteImpl } from './_trees.js';

const HEAVY = 240_000;
const BUCKET = 'admin';
const FONT_KEY = 'fonts/Roboto-Regular-webfont.woff';
const missing = missingOf([DJANGO_TREE], true);
const runHere = builtCliExists() && (missing.length === 0 || !!process.env.CI);

interface FontLoad {
  status: string;
  fontRequests: { url: string; status?: number; failure?: string }[];
}

describe.skipIf(!runHere)('a web font from the bucket on a page of another origin', () => {
  let impl: WebsiteImpl;
  let cache: string;
  let page: Server;
  let origin: string;
  let fontUrl: Record<'api' | 'website', string>;
  const cli = (args: string[]) => runCli(impl, args, { cacheDir: cache });
  const ok = (r: CliResult) => expect(r.code, r.stderr.slice(-2000)).toBe(0);

  beforeAll(async () => {
    if (missing.length) throw new Error(`missing for this test: ${missing.join(', ')}`);
    impl = await startOffloadWithWebsite();
    cache = tempDir('font-cors-cache');
    ok(await cli(['mb', `s3://${BUCKET}`]));
    ok(await cli(['sync', DJANGO_TREE.source, `s3://${BUCKET}`, '--public', '--quiet']));
    await client(impl).send(new PutBucketWebsiteCommand({ Bucket: BUCKET, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    fontUrl = { api: objectUrl(impl, BUCKET, FONT_KEY), website: `http://${BUCKET}.localhost:${impl.websitePort}/${FONT_KEY}` };
    // /api and /website: the same page, its font from one endpoint or the other.
    page = createServer((req, res) => {
      const from = req.url === '/website' ? fontUrl.website : fontUrl.api;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><style>@font-face { font-family: "Admin Roboto"; src: url("${from}") format("woff"); }
        body { font-family: "Admin Roboto", monospace; }</style><p>Font from the bucket</p>`);
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  }, HEAVY);

  afterAll(async () => {
    await new Promise((r) => page?.close(r));
    await impl?.stop();
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  /** Loads the page in a fresh browser (no cached font or CORS answer) and waits for the face. */
  async function loadFont(endpoint: 'api' | 'website'): Promise<FontLoad> {
    const chromium = await launchChromium();
    try {
      const tab = await chromium.context.newPage();
      const fontRequests: FontLoad['fontRequests'] = [];
      tab.on('requestfailed', (req) => {
        if (req.url() === fontUrl[endpoint]) fontRequests.push({ url: req.url(), failure: req.failure()?.errorText });
      });
      tab.on('requestfinished', async (req) => {
        if (req.url() === fontUrl[endpoint]) fontRequests.push({ url: req.url(), status: (await req.response())?.status() });
      });
      await tab.goto(`${origin}/${endpoint}`, { waitUntil: 'load' });
      // Browser-side code as a string: this project's TypeScript has no DOM lib. load() rejects
      // (NetworkError) for a refused font: the face's own status tells which way it went.
      const status = await tab.evaluate<string>(`document.fonts.load('16px "Admin Roboto"').catch(() => undefined)
        .then(() => [...document.fonts].map((f) => f.status).join(','))`);
      await tab.waitForLoadState('networkidle');
      return { status, fontRequests };
    } finally {
      await chromium.close();
    }
  }

  async function refusedThenLoaded(endpoint: 'api' | 'website'): Promise<void> {
    const expectRefused = async () => {
      const refused = await loadFont(endpoint);
      expect(refused.status).toBe('error');
      expect(refused.fontRequests).toEqual([{ url: fontUrl[endpoint], failure: 'net::ERR_FAILED' }]);
    };
    await client(impl).send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    await expectRefused(); // no CORS configuration at all
    ok(await cli(['cors', `s3://${BUCKET}`, '--origin', 'https://elsewhere.example']));
    await expectRefused(); // a rule for another origin only

    ok(await cli(['cors', `s3://${BUCKET}`, '--origin', origin]));
    const loaded = await loadFont(endpoint);
    expect(loaded.status).toBe('loaded');
    expect(loaded.fontRequests).toEqual([{ url: fontUrl[endpoint], status: 200 }]);
  }

  it('S3 API endpoint: refused without a CORS rule for the page, loaded with one', () => refusedThenLoaded('api'), HEAVY);

  // AWS website endpoints answer CORS like the REST endpoint (this failed before the website
  // endpoint applied the bucket's CORS rules).
  it('website endpoint: refused without a CORS rule for the page, loaded with one', () => refusedThenLoaded('website'), HEAVY);

  it('the server is still alive afterwards', async () => {
    const res = await websiteGet(impl.websitePort, `${BUCKET}.localhost`, `/${FONT_KEY}`, { origin });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('font/woff');
  });
});
