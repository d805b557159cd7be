/**
 * The whole workflow against a real S3 server: hash the fixture media, upload it public-read,
 * render the fixture templates through the Express + Nunjucks example app, load the page in
 * headless Chromium, then break things on purpose and let `offload check` find each one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketCorsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../examples/express-nunjucks/app.js';
import { checkCommand } from '../../src/cli/commands/check.js';
import { main } from '../../src/cli/main.js';
import { checkSite } from '../../src/templates/check.js';
import { hashFiles } from '../../src/templates/hashing.js';
import { MANIFEST_NAME, serializeManifest, type Manifest } from '../../src/templates/manifest.js';
import { createMedia } from '../../src/templates/media.js';
import { listMediaFiles } from '../../src/templates/site-files.js';
import { startS3, type TestS3 } from './helpers/s3.js';
import { missingPeer } from '../helpers/require-peer.js';

const SITE = resolve(import.meta.dirname, '../fixtures/site');
const CHROMIUM = '/usr/bin/chromium';
const BUCKET = 'site-media';

let s3: TestS3;
let server: Server;
let appUrl: string;
let base: string;
let manifest: Manifest;
let buildDir: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // Fonts and SRI-checked files are fetched in CORS mode: the bucket must allow the app's origin.
  await s3.client.send(
    new PutBucketCorsCommand({
      Bucket: BUCKET,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['*'], MaxAgeSeconds: 3600 }] },
    }),
  );
  const hashed = await hashFiles(await listMediaFiles(join(SITE, 'media')), { base: '/media/' });
  manifest = hashed.manifest;
  for (const f of hashed.files) {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: f.hashedKey,
        Body: f.body ?? readFileSync(f.path),
        ContentType: f.contentType,
        CacheControl: 'public, max-age=31536000, immutable',
        ACL: 'public-read',
      }),
    );
  }
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: MANIFEST_NAME, Body: serializeManifest(manifest), ContentType: 'application/json', ACL: 'public-read' }));

  base = `${s3.endpoint}/${BUCKET}/`;
  const media = createMedia({ base, manifest, mode: 'development' });
  const app = createApp({ media, views: join(SITE, 'views') });
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A "built" copy of the page, as a static site generator would write it.
  buildDir = mkdtempSync(join(tmpdir(), 'offload-build-'));
  const html = await (await fetch(`${appUrl}/`)).text();
  writeFileSync(join(buildDir, 'index.html'), html);
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await s3?.stop();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

const key = (p: string) => manifest.files[p]!.key;

interface PageState {
  app?: string;
  fonts?: string;
  logoBackground: string;
  bodyBackground: string;
  img: number;
  iframe: string;
}

describe(`site served from the bucket`, () => {
  it.skipIf(missingPeer('Chromium', existsSync(CHROMIUM)))('loads every stylesheet, script, font and image from the bucket and the iframe from the app', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const failed: string[] = [];
      const loaded = new Map<string, number>();
      const consoleErrors: string[] = [];
      page.on('requestfailed', (req) => failed.push(`${req.url()}: ${req.failure()?.errorText}`));
      page.on('response', (res) => loaded.set(res.url(), res.status()));
      page.on('console', (msg) => {
        if (msg.type() === 'error') consoleErrors.push(msg.text());
      });
      await page.goto(`${appUrl}/`, { waitUntil: 'load' });
      // Browser-side code as strings: this project's TypeScript has no DOM lib.
      await page.waitForFunction('document.documentElement.dataset.fonts !== undefined');

      expect(failed).toEqual([]);
      expect(consoleErrors).toEqual([]);
      for (const [url, status] of loaded) expect(status, url).toBeLessThan(400);
      for (const p of ['css/site.css', 'css/fonts.css', 'fonts/open-sans.woff2', 'img/bg.png', 'img/logo.png', 'js/app.js']) {
        expect(loaded.get(base + key(p)), `${p} from the bucket`).toBe(200);
      }
      const state = await page.evaluate<PageState>(`({
        app: document.documentElement.dataset.app,
        fonts: document.documentElement.dataset.fonts,
        logoBackground: getComputedStyle(document.querySelector('.logo')).backgroundImage,
        bodyBackground: getComputedStyle(document.body).backgroundImage,
        img: document.querySelector('img').naturalWidth,
        iframe: document.querySelector('iframe').src,
      })`);
      expect(state.app).toBe('loaded'); // the script ran, so its SRI matched
      expect(state.fonts).toBe('Open Sans');
      expect(state.logoBackground).toBe(`url("${base}${key('img/logo.png')}")`);
      expect(state.bodyBackground).toBe(`url("${base}${key('img/bg.png')}")`);
      expect(state.img).toBe(32);
      expect(state.iframe).toBe(`${appUrl}/widget`);
      const frame = page.frames().find((f) => f.url() === `${appUrl}/widget`);
      expect(await frame?.textContent('#widget')).toBe('Widget rendered by the app at /widget');
    } finally {
      await browser.close();
    }
  });

  it('offload check finds nothing wrong in the built page nor in the running app', async () => {
    for (const target of [buildDir, `${appUrl}/`]) {
      const result = await checkSite({ target, base, endpoint: s3.endpoint });
      expect(result.problems).toEqual([]);
      // 5 references in the page (icon, font preload, stylesheet, img, script) + 3 in the bucket's CSS (@import, bg, logo) + 1 font
      expect(result.references).toBe(9);
    }
  });

  it('offload check reports a deleted object, an iframe into the bucket and an old /media/ link, each with its line', async () => {
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key('img/logo.png') }));
    // A private object (no public-read ACL): only a server that enforces ACLs refuses it (s3rver does not).
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'img/private.png', Body: readFileSync(join(SITE, 'media/img/icon.png')), ContentType: 'image/png' }));
    const enforcesAcls = s3.kind === 'offload';
    const html = readFileSync(join(buildDir, 'index.html'), 'utf8')
      .replace('<iframe src="/widget"', `<iframe src="${base}widget"`)
      .replace('<p><a href="/about">About</a></p>', '<p><a href="/about">About</a></p>\n  <img src="/media/img/old-banner.png" alt="">\n  <img src="' + base + 'img/private.png" alt="">');
    mkdirSync(join(buildDir, 'broken'));
    writeFileSync(join(buildDir, 'broken', 'index.html'), html);
    const lines = html.split('\n');
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const siteCss = readFileSync(join(SITE, 'media/css/site.css'), 'utf8').split('\n').findIndex((l) => l.includes('logo.png')) + 1;

    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
    try {
      // The whole CLI, in-process.
      await main(['check', join(buildDir, 'broken'), '--base', base, '--endpoint', s3.endpoint]);
      expect(process.exitCode).toBe(1);
      const out = log.mock.calls.map((c) => String(c[0]));
      const logo = `${base}${key('img/logo.png')}`;
      expect(out).toEqual([
        `${base}${key('css/site.css')}:${siteCss}: ${logo} does not exist (bucket ${BUCKET}, key ${key('img/logo.png')})`,
        `index.html:${lineOf('<img src="' + logo)}: ${logo} does not exist (bucket ${BUCKET}, key ${key('img/logo.png')})`,
        `index.html:${lineOf('old-banner')}: still points at the old media path /media/: /media/img/old-banner.png`,
        ...(enforcesAcls ? [`index.html:${lineOf('private.png')}: ${base}img/private.png is not publicly readable (HTTP 403) (bucket ${BUCKET}, key img/private.png)`] : []),
        `index.html:${lineOf('<iframe')}: <iframe> loads ${base}widget from the bucket: pages must stay on the app server`,
      ]);

      // Without --endpoint (so without credentials) the anonymous 403 of a missing object cannot be told from a private one.
      log.mockClear();
      process.exitCode = undefined;
      const program = new Command().exitOverride().addCommand(checkCommand());
      await program.parseAsync(['check', join(buildDir, 'broken'), '--base', base, '--json'], { from: 'user' });
      expect(process.exitCode).toBe(1);
      const problems = log.mock.calls.map((c) => JSON.parse(String(c[0])) as { code: string; line: number; file: string });
      const missing = problems[0]?.code === 'forbidden' ? 'forbidden' : 'missing';
      expect(problems.map((p) => [p.file.replace(base, ''), p.line, p.code])).toEqual([
        [key('css/site.css'), siteCss, missing],
        ['index.html', lineOf('<img src="' + logo), missing],
        ['index.html', lineOf('old-banner'), 'old-base'],
        ...(enforcesAcls ? [['index.html', lineOf('private.png'), 'forbidden']] : []),
        ['index.html', lineOf('<iframe'), 'page-in-bucket'],
      ]);
    } finally {
      process.exitCode = undefined;
      vi.unstubAllEnvs();
      log.mockRestore();
      err.mockRestore();
    }
  });
});
