/**
 * The "move your media off the app server" case in a real browser: a page from an app server
 * whose images and stylesheets (Debian's Django admin static tree, and the images those CSS
 * files reference) come through an origin bucket in front of nginx serving that tree. The first
 * load has no failed request; the second (a fresh browser profile) makes no origin request at all.
 */
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { missingPeer } from '../helpers/require-peer.js';
import type { TestServer } from '../helpers/server.js';
import { DJANGO_TREE, launchChromium, missingOf, type HeadlessChromium } from '../e2e/_trees.js';
import { NGINX, setOrigin, startNginx, startOriginServer, type Nginx } from './_origin.js';

const missing = [...missingOf([DJANGO_TREE], true), ...(existsSync(NGINX) ? [] : [NGINX])];
const skip = missingPeer(missing.join(', '), missing.length === 0);
let nginx: Nginx;
let server: TestServer;
let app: Server;
let appUrl: string;
let chromium: HeadlessChromium;

beforeAll(async () => {
  if (skip) return;
  nginx = await startNginx({}, 'location / { add_header Cache-Control "public, max-age=3600"; }', DJANGO_TREE.source);
  server = await startOriginServer();
  const s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  // The stylesheets' web fonts are fetched in CORS mode from the page's origin, as on any media host.
  await s3.send(new PutBucketCorsCommand({ Bucket: 'media', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] }] } }));
  s3.destroy();
  await setOrigin(server, 'media', { url: nginx.url, public: true });
  const media = `${server.endpoint}/media`;
  const images = readdirSync(`${DJANGO_TREE.source}/img`).filter((f) => f.endsWith('.svg') || f.endsWith('.gif') || f.endsWith('.png'));
  const styles = readdirSync(`${DJANGO_TREE.source}/css`).filter((f) => f.endsWith('.css'));
  const page = `<!doctype html><html><head>${styles.map((s) => `<link rel="stylesheet" href="${media}/css/${s}">`).join('')}</head>
<body><h1>App</h1>${images.map((i) => `<img src="${media}/img/${i}" alt="">`).join('')}</body></html>`;
  app = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}/`;
  chromium = await launchChromium();
}, 90_000);
afterAll(async () => {
  await chromium?.close();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
  await server?.stop();
  await nginx?.remove();
});

async function load(): Promise<{ failed: string[]; media: { url: string; status: number; cache: string | null }[] }> {
  const page = await chromium.context.newPage();
  const failed: string[] = [];
  const media: { url: string; status: number; cache: string | null }[] = [];
  page.on('requestfailed', (req) => failed.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.url().startsWith(`${server.endpoint}/media/`)) media.push({ url: res.url(), status: res.status(), cache: res.headers()['x-cache'] ?? null });
  });
  await page.goto(appUrl, { waitUntil: 'networkidle' });
  await page.close();
  return { failed, media };
}

describe.skipIf(skip)('a page whose media come through an origin bucket', () => {
  it('loads with zero failed requests, then again (a fresh browser profile) without one origin request', async () => {
    const first = await load();
    expect(first.failed).toEqual([]);
    expect(first.media.length).toBeGreaterThan(10);
    expect(first.media.filter((m) => m.status !== 200)).toEqual([]);
    const asked = nginx.requests().length;
    expect(asked).toBeGreaterThan(10);
    // Fills commit just after their last byte is sent: give the last ones a moment.
    await new Promise((r) => setTimeout(r, 500));
    // A new browser profile: nothing in the browser's own cache, every medium asked of Offload again.
    await chromium.close();
    chromium = await launchChromium();
    const second = await load();
    expect(second.failed).toEqual([]);
    expect(second.media.length).toBe(first.media.length);
    expect(second.media.filter((m) => m.status !== 200 || m.cache !== 'HIT')).toEqual([]);
    expect(nginx.requests().length).toBe(asked);
  });
});
