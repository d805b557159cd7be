/**
 * Shared set-up of the end-to-end tests: the real site trees Debian ships, the real `offload serve`
 * with its website endpoint, and headless Chromium kept on loopback.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { startOffload, type S3Impl } from '../cli/harness.js';

export const PYTHON_DOCS = '/usr/share/doc/python3/html';
export const DJANGO_ADMIN = '/usr/lib/python3/dist-packages/django/contrib/admin/static/admin';
export const CHROMIUM = '/usr/bin/chromium';

export interface Tree {
  name: string;
  source: string;
  pkg: string;
}
export const PYTHON_TREE: Tree = { name: 'Python HTML docs', source: PYTHON_DOCS, pkg: 'python3-doc' };
export const DJANGO_TREE: Tree = { name: 'Django admin static files', source: DJANGO_ADMIN, pkg: 'python3-django' };

/** What a test needs and is not here, for the skip (outside CI) or the failure message (in CI). */
export function missingOf(trees: Tree[], chromiumToo = false): string[] {
  const missing = trees.filter((t) => !existsSync(t.source)).map((t) => `${t.source} (apt-get install ${t.pkg})`);
  if (chromiumToo && !existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install chromium)`);
  return missing;
}

export type WebsiteImpl = S3Impl & { websitePort: number };

/** The real server with its website endpoint on a free port (hosts `bucket.localhost:PORT`). */
export async function startOffloadWithWebsite(): Promise<WebsiteImpl> {
  const impl = await startOffload(['--website-port', '0']);
  if (!impl.websitePort) {
    await impl.stop();
    throw new Error('offload serve --website-port 0 printed no website endpoint');
  }
  return { ...impl, websitePort: impl.websitePort };
}

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile, no proxy, no background traffic, and every
 * `*.localhost` host on 127.0.0.1 (website endpoint virtual hosts), so nothing leaves loopback.
 */
export async function launchChromium(): Promise<HeadlessChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'offload-e2e-chromium-'));
  // Playwright takes the profile folder itself (it refuses a --user-data-dir argument).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-proxy-server',
      '--host-resolver-rules=MAP *.localhost 127.0.0.1',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET from the website endpoint with a virtual host (Node does not resolve `*.localhost`). */
export function websiteGet(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host: `${host}:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}
