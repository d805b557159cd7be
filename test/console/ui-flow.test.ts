/**
 * The web console's main flow in headless Chromium against the real server: sign in, create a
 * bucket, upload a folder (one file over the multipart threshold), make the bucket public and
 * read a file anonymously, set a cache rule and see it in an anonymous answer, see the usage
 * plot drawn after traffic, sign out and be refused. No page error, no console error.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import type { TestServer } from '../helpers/server.js';
import { anonymousGet, canRunBrowser, consoleUrl, launchConsoleBrowser, signIn, startConsoleServer, type ConsoleBrowser } from './ui-harness.js';

const BUCKET = 'site-media';
const BIG = 12 * 1024 * 1024 + 12345; // over the UI's 8 MiB multipart threshold: sent in parts
// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe.skipIf(!canRunBrowser)('web console: the main flow in a browser', () => {
  let server: TestServer;
  let browser: ConsoleBrowser;
  let page: Page;
  let folder: string;

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchConsoleBrowser();
    page = await browser.newPage();
    folder = join(mkdtempSync(join(tmpdir(), 'offload-console-upload-')), 'site');
    mkdirSync(join(folder, 'css'), { recursive: true });
    mkdirSync(join(folder, 'img'));
    mkdirSync(join(folder, 'video'));
    writeFileSync(join(folder, 'index.html'), '<!doctype html><title>Hello</title><p>Hello</p>\n');
    writeFileSync(join(folder, 'css', 'site.css'), 'body { color: #333 }\n');
    writeFileSync(join(folder, 'img', 'logo.png'), PNG);
    writeFileSync(join(folder, 'video', 'intro.mp4'), randomBytes(BIG));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(join(folder, '..'), { recursive: true, force: true });
  });

  it('signs in with the root key and shows the buckets page', async () => {
    await signIn(page, server);
    await page.getByRole('heading', { name: 'Buckets' }).waitFor(); // waits until visible (fails on timeout), never one look
    // The secret went in a POST body only: not in the URL, not in storage.
    expect(page.url()).not.toContain(server.secretAccessKey);
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie');
    expect(stored).not.toContain(server.secretAccessKey);
  });

  it('creates a bucket', async () => {
    await page.getByLabel('New bucket name').fill(BUCKET);
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('link', { name: BUCKET, exact: true }).waitFor();
    const row = page.getByRole('row').filter({ hasText: BUCKET });
    await row.getByText('Private').waitFor(); // waits until visible (fails on timeout), never one look
  });

  it('uploads a folder through the folder input, keeping its paths, the big file in parts', async () => {
    await page.goto(consoleUrl(server, `b/${BUCKET}/upload`));
    await page.getByTestId('folder-input').setInputFiles(folder);
    await page.getByText('site/video/intro.mp4').waitFor();
    await page.getByRole('button', { name: /^Upload 4 files$/ }).click();
    await page.getByText('All 4 files uploaded.').waitFor({ timeout: 60_000 });
    const progress = page.getByTestId('overall-progress');
    expect(Number(await progress.getAttribute('value'))).toBe(Number(await progress.getAttribute('max')));
    await expect(page.locator('li.upload[data-state="done"]').count()).resolves.toBe(4);

    const head = await sdkClient(server).send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'site/video/intro.mp4' }));
    expect(head.ContentLength).toBe(BIG);
    expect(head.ETag).toMatch(/-\d+"$/); // a multipart ETag: it went in parts
    expect(head.ContentType).toBe('video/mp4');
  }, 120_000);

  it('resumes a multipart upload after a network drop, sending only the missing part again', async () => {
    const body = randomBytes(9 * 1024 * 1024 + 7);
    let dropped = 0;
    const sent: string[] = [];
    await page.route('**/uploads/*/parts/2', (route) => (dropped++ === 0 ? route.abort('connectionreset') : route.continue()));
    const onRequest = (req: { url(): string; method(): string }) => {
      const path = new URL(req.url()).pathname;
      if (path.includes('/uploads')) sent.push(`${req.method()} ${path.replace(/^.*\/uploads/, '/uploads').replace(/\/uploads\/[^/]+/, '/uploads/ID')}`);
    };
    page.on('request', onRequest);
    try {
      await page.goto(consoleUrl(server, `b/${BUCKET}/upload`));
      await page.getByTestId('file-input').setInputFiles({ name: 'resumed.bin', mimeType: 'application/octet-stream', buffer: body });
      await page.getByRole('button', { name: 'Upload 1 file' }).click();
      await page.getByText('All 1 files uploaded.').waitFor({ timeout: 60_000 });
    } finally {
      page.off('request', onRequest);
      await page.unroute('**/uploads/*/parts/2');
    }
    expect(dropped).toBe(2);
    // After the drop the page asked the server which parts it has, then sent part 2 only.
    const afterDrop = sent.slice(sent.indexOf('GET /uploads/ID'));
    expect(afterDrop).toEqual(['GET /uploads/ID', 'PUT /uploads/ID/parts/2', 'POST /uploads/ID/complete']);
    const got = await sdkClient(server).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'resumed.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    // The one dropped request is the browser's own network-log line, expected here.
    const drop = browser.problems.findIndex((p) => p.includes('ERR_CONNECTION_RESET'));
    expect(drop).toBeGreaterThanOrEqual(0);
    browser.problems.splice(drop, 1);
  }, 120_000);

  it('makes the bucket public after a plain-words warning, and a file reads anonymously with its type', async () => {
    expect((await anonymousGet(server, BUCKET, 'site/img/logo.png')).status).toBe(403);
    await page.goto(consoleUrl(server, 'buckets'));
    const row = page.getByRole('row').filter({ hasText: BUCKET });
    await row.getByRole('button', { name: 'Make public' }).click();
    await page.getByText(/anyone on the internet/).waitFor();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Make public' }).click();
    await row.getByText('Public', { exact: true }).waitFor();
    const res = await anonymousGet(server, BUCKET, 'site/img/logo.png');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
    const css = await anonymousGet(server, BUCKET, 'site/css/site.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('browses by folder and shows an object\'s details with its public URL', async () => {
    await page.goto(consoleUrl(server, `b/${BUCKET}`));
    await page.getByRole('link', { name: 'site/' }).click();
    await page.getByRole('link', { name: 'img/' }).click();
    await page.getByRole('link', { name: 'logo.png' }).click();
    const panel = page.getByRole('complementary');
    await panel.getByText('image/png').first().waitFor();
    await panel.getByText(`${server.endpoint}/${BUCKET}/site/img/logo.png`).waitFor(); // waits until visible (fails on timeout), never one look
  });

  it('sets a cache rule in the settings form, and an anonymous answer carries it', async () => {
    await page.goto(consoleUrl(server, `b/${BUCKET}/settings`));
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Files matching').fill('image/*');
    await page.getByLabel('Cache-Control', { exact: true }).fill('public, max-age=4321');
    await page.getByRole('button', { name: 'Save cache rules' }).click();
    await page.getByRole('form', { name: 'Cache rules' }).getByText('Saved.').waitFor();
    const res = await anonymousGet(server, BUCKET, 'site/img/logo.png');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=4321');
  });

  it('shows a drawn usage plot after some traffic', async () => {
    for (let i = 0; i < 5; i++) await (await anonymousGet(server, BUCKET, 'site/index.html')).arrayBuffer();
    await (await anonymousGet(server, BUCKET, 'site/missing.txt')).arrayBuffer();
    await page.goto(consoleUrl(server, `usage?bucket=${BUCKET}`));
    // Usage counters reach the database every ~2 s: refresh until the first plot has points.
    const plot = page.locator('.chart-box').first();
    for (let tries = 0; tries < 20; tries++) {
      if ((await plot.count()) && Number(await plot.getAttribute('data-points')) > 0) break;
      await page.waitForTimeout(1000);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    expect(Number(await plot.getAttribute('data-points'))).toBeGreaterThan(0);
    const drawn = await page.evaluate<number>(`(() => {
      const c = document.querySelector('.chart-box canvas');
      if (!c || !c.width) return 0;
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
      return ink;
    })()`);
    expect(drawn).toBeGreaterThan(100);
    await page.getByText('Top files by requests').waitFor();
    await page.getByRole('cell', { name: 'site/index.html' }).first().waitFor(); // waits until visible (fails on timeout), never one look
  }, 60_000);

  it('deletes a bucket that is not empty only after its name is typed', async () => {
    const s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'scratch' }));
    await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'a.txt', Body: 'a' }));
    await page.goto(consoleUrl(server, 'buckets'));
    await page.getByRole('button', { name: 'Delete bucket scratch' }).click();
    const dialog = page.getByRole('alertdialog');
    const confirm = dialog.getByRole('button', { name: /^Delete scratch/ });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel(/to confirm/).fill('scratch');
    await confirm.click();
    await page.getByText('Deleted scratch and everything in it.').waitFor();
    // The list is fetched again after the message: wait for it to drop the bucket (a bucket that stayed would time out here).
    await page.getByRole('link', { name: 'scratch', exact: true }).waitFor({ state: 'detached', timeout: 10_000 });
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'scratch' }))).rejects.toThrow();
  });

  it('signs out, and the old session is refused by the API', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate<number>("fetch('/_offload/console/api/buckets', { credentials: 'same-origin' }).then((r) => r.status)");
    expect(status).toBe(401);
    await page.goto(consoleUrl(server, 'buckets'));
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('had no page errors, console errors or alerts, and the server is still alive', async () => {
    expect(browser.problems).toEqual([]);
    expect((await anonymousGet(server, BUCKET, 'site/img/logo.png')).status).toBe(200);
  });
});
