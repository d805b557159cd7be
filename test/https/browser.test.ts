/**
 * Headless Chromium loads an HTTPS page whose 60 media files come from Offload (a CNAME bucket on
 * the TLS port): every request over HTTP/2 (the protocol Chromium's network layer reports),
 * none failed, no mixed-content warning. The certificate is trusted for this test only, by its
 * public key (--ignore-certificate-errors-spki-list), not by turning checks off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { missingPeer } from '../helpers/require-peer.js';
import { makeTestCa } from '../helpers/tls.js';

const CHROMIUM = '/usr/bin/chromium';
const ASSETS = 60;

function svg(i: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="hsl(${i * 6},70%,50%)"/><text x="4" y="26" font-size="14">${i}</text></svg>`;
}

describe.skipIf(missingPeer('chromium', existsSync(CHROMIUM)))('Chromium over HTTPS and HTTP/2', () => {
  let server: TestServer;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    const ca = await makeTestCa();
    const leaf = await ca.issue(['media.test', 'page.test']);
    const pair = ca.write('browser', leaf);
    server = await startServer({ args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0'] });
    const s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'media.test' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'page.test' }));
    const origin = `https://media.test:${server.tlsPort!}`;
    await Promise.all(Array.from({ length: ASSETS }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'media.test', Key: `img/${i}.svg`, Body: svg(i), ContentType: 'image/svg+xml', ACL: 'public-read' }))));
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>gallery</title></head><body>${Array.from({ length: ASSETS }, (_, i) => `<img src="${origin}/img/${i}.svg" alt="${i}">`).join('')}</body></html>`;
    await s3.send(new PutObjectCommand({ Bucket: 'page.test', Key: 'index.html', Body: html, ContentType: 'text/html', ACL: 'public-read' }));
    const spki = createHash('sha256').update(createPublicKey(leaf.keyPem).export({ type: 'spki', format: 'der' })).digest('base64');
    profile = mkdtempSync(join(tmpdir(), 'offload-https-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-proxy-server',
        '--host-resolver-rules=MAP *.test 127.0.0.1', `--ignore-certificate-errors-spki-list=${spki}`],
    });
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.stop();
  });

  it('loads the page and its 60 images over HTTP/2, no request failed, no mixed content', async () => {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const protocols = new Map<string, string>();
    cdp.on('Network.responseReceived', (e: { response: { url: string; protocol?: string; status: number } }) => {
      protocols.set(e.response.url, `${e.response.protocol ?? '?'} ${e.response.status}`);
    });
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
    const warnings: string[] = [];
    page.on('console', (m) => { if (/mixed content|insecure/i.test(m.text())) warnings.push(m.text()); });
    const response = await page.goto(`https://page.test:${server.tlsPort!}/index.html`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const loaded = await page.evaluate<number>('[...document.images].filter((img) => img.complete && img.naturalWidth === 40).length');
    expect(loaded).toBe(ASSETS);
    expect(failed).toEqual([]);
    expect(warnings).toEqual([]);
    const images = [...protocols].filter(([url]) => url.includes('/img/'));
    expect(images).toHaveLength(ASSETS);
    expect(new Set(images.map(([, p]) => p))).toEqual(new Set(['h2 200']));
    expect(protocols.get(`https://page.test:${server.tlsPort!}/index.html`)).toBe('h2 200');
    await page.close();
  }, 60_000);
});
