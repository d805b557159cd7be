/**
 * Drives the real web console in headless Chromium (Debian's, through playwright-core) against the
 * real built server: one fresh profile per browser, every page's errors and console errors kept so
 * a test can assert there were none. Browser-side code is passed as strings: this project's
 * TypeScript has no DOM lib.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';

export const CHROMIUM = '/usr/bin/chromium';
/**
 * Outside CI a missing Chromium skips the browser tests; in CI they fail. They also wait for the
 * server side of the console (src/console/, built on the console-api branch) to be in the tree.
 */
export const canRunBrowser = (existsSync(CHROMIUM) || !!process.env.CI) && existsSync(join(import.meta.dirname, '../../src/console'));
export const CONSOLE_PATH = '/_offload/console/';

/**
 * The browser's own line for an HTTP error answer to fetch(). The console meets 401 (the session
 * check before sign-in, after sign-out) and 403 (a refused action) by design and shows a message;
 * those lines are the network log, not script errors, and are the only console errors allowed.
 */
const EXPECTED_HTTP_ERROR = /^Failed to load resource: the server responded with a status of (401|403) /;

export interface ConsoleBrowser {
  context: BrowserContext;
  /** Page errors, console errors and alert() dialogs seen on any page so far. */
  problems: string[];
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchConsoleBrowser(): Promise<ConsoleBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'offload-console-chromium-'));
  // Playwright takes the profile folder itself (it refuses a --user-data-dir argument).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: false,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-proxy-server'],
  });
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !EXPECTED_HTTP_ERROR.test(msg.text())) problems.push(`console.error: ${msg.text()} (${msg.location().url})`);
    });
    // confirm() is the console's own question (delete selected): accept it. alert() never is.
    page.on('dialog', (d) => {
      if (d.type() !== 'confirm') problems.push(`dialog ${d.type()}: ${d.message()}`);
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    problems,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function consoleUrl(server: TestServer, hash = ''): string {
  return `${server.endpoint}${CONSOLE_PATH}${hash ? `#/${hash}` : ''}`;
}

export async function startConsoleServer(): Promise<TestServer> {
  return startServer();
}

export async function signIn(page: Page, server: TestServer, key = server.accessKeyId, secret = server.secretAccessKey): Promise<void> {
  await page.goto(consoleUrl(server));
  // One profile, one cookie jar: a session from an earlier step is ended first.
  const signOut = page.getByRole('button', { name: 'Sign out' });
  const keyField = page.getByLabel('Access key');
  await signOut.or(keyField).waitFor();
  if (await signOut.isVisible()) await signOut.click();
  await keyField.fill(key);
  await page.getByLabel('Secret key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** True when the page is wider than the window (a phone would scroll sideways). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth + 1');
}

/** Anonymous GET of an object (no credentials, no cookie). */
export async function anonymousGet(server: TestServer, bucket: string, key: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, { headers });
}
