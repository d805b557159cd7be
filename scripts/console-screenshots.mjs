#!/usr/bin/env node
/**
 * Screenshots of the web console for docs/console.md, from the real thing: starts the built
 * `offload serve` on a loopback port with a throwaway data folder, fills it with sample buckets,
 * files and traffic through the S3 API, then drives headless Chromium through each page and saves
 * docs/img/console-<page>.png. Run with `npm run screenshots` (it builds first).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs', 'img');
const KEY = 'OFFLOADSCREENSHOTKEY';
const SECRET = 'offload-screenshot-secret-0123456789abcdef';

function startServer(dataDir) {
  const child = spawn(process.execPath, [join(root, 'bin', 'offload.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dataDir], {
    env: { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: KEY, OFFLOAD_ROOT_SECRET_KEY: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    child.stdout.on('data', (c) => {
      output += c;
      const m = /offload listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ endpoint: m[1].replace(/\/$/, ''), child });
      }
    });
    child.stderr.on('data', (c) => { output += c; });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

/** A small gradient PNG, so the browse page has a real image to preview. */
function png(width, height, [r0, g0, b0], [r1, g1, b1]) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      row.set([Math.round(r0 + (r1 - r0) * t), Math.round(g0 + (g1 - g0) * t), Math.round(b0 + (b1 - b0) * t)], 1 + x * 3);
    }
    rows.push(row);
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

async function sampleData(endpoint) {
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: SECRET } });
  for (const Bucket of ['media', 'downloads', 'backups']) await s3.send(new CreateBucketCommand({ Bucket }));
  const put = (Bucket, Key, Body, ContentType) => s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType }));
  await put('media', 'img/hero.png', png(640, 360, [37, 99, 235], [22, 163, 74]), 'image/png');
  await put('media', 'img/logo.png', png(128, 128, [17, 24, 39], [229, 231, 235]), 'image/png');
  for (let i = 1; i <= 6; i++) await put('media', `img/gallery/photo-${i}.png`, png(200, 150, [200, 40 * i, 80], [40, 80, 220]), 'image/png');
  await put('media', 'css/site.css', 'body { font-family: system-ui; color: #1f2328 }\n'.repeat(40), 'text/css');
  await put('media', 'js/app.js', 'console.log("hello");\n'.repeat(200), 'text/javascript');
  await put('media', 'fonts/inter.woff2', Buffer.alloc(48_000, 7), 'font/woff2');
  await put('media', 'index.html', '<!doctype html><title>Example</title><h1>Example site</h1>\n', 'text/html');
  await put('downloads', 'brochure.pdf', Buffer.alloc(900_000, 1), 'application/pdf');
  for (let i = 1; i <= 3; i++) await put('backups', `db/2026-11-${String(27 + i).padStart(2, '0')}.sql.gz`, Buffer.alloc(300_000 * i, 2), 'application/gzip');
  return s3;
}

async function traffic(endpoint) {
  const referrers = ['https://www.example.com/', 'https://www.example.com/blog/', 'https://news.example.org/'];
  const paths = ['img/hero.png', 'img/logo.png', 'css/site.css', 'js/app.js', 'fonts/inter.woff2', 'img/gallery/photo-1.png', 'img/missing.png'];
  for (let i = 0; i < 120; i++) {
    const path = paths[i % paths.length];
    const res = await fetch(`${endpoint}/media/${path}`, { headers: { referer: referrers[i % referrers.length] } });
    await res.arrayBuffer();
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'offload-screenshots-'));
  const profile = mkdtempSync(join(tmpdir(), 'offload-screenshots-chromium-'));
  const { endpoint, child } = await startServer(dataDir);
  let context;
  try {
    await sampleData(endpoint);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-proxy-server'],
    });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const base = `${endpoint}/_offload/console/`;
    const shot = async (name, fullPage = false) => {
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(out, `console-${name}.png`), fullPage });
      console.log(`docs/img/console-${name}.png`);
    };

    await page.goto(base);
    await page.getByLabel('Access key').fill(KEY);
    await shot('signin');
    await page.getByLabel('Secret key').fill(SECRET);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    // Public media bucket with a website, so the pages show badges and URLs.
    await page.goto(`${base}#/buckets`);
    const row = page.getByRole('row').filter({ hasText: 'media' }).first();
    await row.getByRole('button', { name: 'Make public' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Make public' }).click();
    await row.getByText('Public', { exact: true }).waitFor();
    await page.goto(`${base}#/b/media/settings`);
    await page.getByLabel('Host a website from this bucket').check();
    await page.getByRole('button', { name: 'Save website settings' }).click();
    await page.getByRole('button', { name: 'Add “images and fonts for a year”' }).click();
    await page.getByRole('button', { name: 'Save cache rules' }).click();
    await page.getByLabel("Your site's address").fill('https://www.example.com');
    await page.getByRole('button', { name: "Allow my site's fonts" }).click();
    await page.getByRole('button', { name: 'Save CORS' }).click();
    await page.getByRole('form', { name: 'CORS (other sites using these files)' }).getByText('Saved.').waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('settings');
    await traffic(endpoint);

    await page.goto(`${base}#/buckets`);
    await page.getByRole('row').filter({ hasText: 'backups' }).waitFor();
    await shot('buckets');

    await page.goto(`${base}#/b/media?prefix=img%2F&key=img%2Fhero.png`);
    await page.getByRole('complementary').getByText('image/png').first().waitFor();
    await shot('browse', true);

    await page.goto(`${base}#/b/media/upload?prefix=uploads%2F`);
    await page.getByTestId('file-input').setInputFiles([
      { name: 'poster.png', mimeType: 'image/png', buffer: png(300, 200, [250, 180, 40], [200, 40, 40]) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Upload notes\n'.repeat(100)) },
      { name: 'trailer.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(10 * 1024 * 1024, 3) },
    ]);
    await page.getByRole('button', { name: 'Upload 3 files' }).click();
    await page.getByText('All 3 files uploaded.').waitFor({ timeout: 60_000 });
    await shot('upload');

    await page.goto(`${base}#/keys`);
    await page.getByLabel('Name').fill('website deploys');
    await page.getByLabel('Bucket').selectOption('media');
    await page.getByLabel('Access level').selectOption('readwrite');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('new-secret').waitFor();
    await shot('keys');

    // Usage reaches the stats database every ~2 s.
    await page.waitForTimeout(3000);
    await page.goto(`${base}#/usage?bucket=media`);
    await page.locator('.chart-box canvas').first().waitFor();
    await shot('usage', true);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}#/b/media?prefix=img%2F`);
    await page.getByRole('link', { name: 'hero.png' }).waitFor();
    await shot('phone');
    if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
  } finally {
    await context?.close();
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

await main();
