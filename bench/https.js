// @ts-check
/**
 * HTTPS benchmark: `node bench/https.js` (add `--smoke` for a seconds-long run). Offload's TLS port
 * against nginx with the same certificate (wrk over HTTPS, HTTP/1.1: a 10 KiB GET and a 1 MiB GET,
 * one process each, ratios), and a 60-image page loaded by headless Chromium over HTTP/1.1
 * (--disable-http2) and over HTTP/2, a fresh browser per load (median of the loads). Writes
 * bench/out/BENCHMARKS.https.md.
 */
import './env.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { NGINX, ROOT, s3Client } from './peers.js';
import { WRK, medianWrk, wrk } from './load.js';
import { cleanupAll, fmt, freePort, killChild, median, removeDir, run, startChild, tempDir } from './util.js';

const smoke = process.argv.includes('--smoke');
const SECS = smoke ? 1 : 5;
const ROUNDS = smoke ? 1 : 3;
const LOADS = smoke ? 2 : 7;
const CHROMIUM = '/usr/bin/chromium';
const KiB = 1024;
const log = (s) => console.log(`[https] ${s}`);

async function main() {
  const dir = tempDir('offload-bench-https-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=media.test', '-addext', 'subjectAltName=DNS:media.test,DNS:page.test,IP:127.0.0.1'], { stdio: 'ignore' });
  const small = Buffer.alloc(10 * KiB, 'a');
  const big = Buffer.alloc(1024 * KiB, 'b');
  const rows = [];

  // Offload: plain port for setup, TLS port measured.
  const data = join(dir, 'data');
  const [port, tlsPort] = [await freePort(), await freePort()];
  const env = { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: 'BENCHROOTKEY00000000', OFFLOAD_ROOT_SECRET_KEY: 'benchrootsecret0000000000000000000000000' };
  const offload = await startChild(process.execPath, [join(ROOT, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data, '--tls-cert', cert, '--tls-key', key, '--tls-port', String(tlsPort)],
    { env, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000 });
  const s3 = s3Client(`http://127.0.0.1:${port}`, env.OFFLOAD_ROOT_ACCESS_KEY, env.OFFLOAD_ROOT_SECRET_KEY);
  for (const bucket of ['bench', 'media.test', 'page.test']) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'small.bin', Body: small, ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big.bin', Body: big, ACL: 'public-read' }));
  const assets = Array.from({ length: 60 }, (_, i) => `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="hsl(${i * 6},70%,50%)"/>${'<!-- pad -->'.repeat(200)}</svg>`);
  await Promise.all(assets.map((body, i) => s3.send(new PutObjectCommand({ Bucket: 'media.test', Key: `img/${i}.svg`, Body: body, ContentType: 'image/svg+xml', ACL: 'public-read' }))));
  const html = `<!doctype html><meta charset="utf-8"><title>60</title>${assets.map((_, i) => `<img src="https://media.test:${tlsPort}/img/${i}.svg">`).join('')}`;
  await s3.send(new PutObjectCommand({ Bucket: 'page.test', Key: 'index.html', Body: html, ContentType: 'text/html', ACL: 'public-read' }));

  // nginx, one worker, the same certificate and files.
  const nginx = existsSync(NGINX) ? await startTlsNginx(dir, cert, key, { 'bench/small.bin': small, 'bench/big.bin': big }) : undefined;
  if (existsSync(WRK)) {
    for (const [label, path, connections] of /** @type {const} */ ([['HTTPS GET 10 KiB (c32)', 'bench/small.bin', 32], ['HTTPS GET 1 MiB (c8)', 'bench/big.bin', 8]])) {
      const measure = async (url) => medianWrk(await sequential(ROUNDS, () => wrk(url, { connections, seconds: SECS, threads: 2 })));
      const o = await measure(`https://127.0.0.1:${tlsPort}/${path}`);
      const n = nginx ? await measure(`${nginx.url}/${path}`) : undefined;
      log(`${label}: Offload ${fmt(o.rps, 0)} req/s${n ? `, nginx ${fmt(n.rps, 0)} req/s` : ''}`);
      rows.push([label, `${fmt(o.rps, 0)} req/s (${fmt(o.transferPerSec / 1048576, 0)} MiB/s)${o.error ? ` [${o.error}]` : ''}`, n ? `${fmt(n.rps, 0)} req/s (${fmt(n.transferPerSec / 1048576, 0)} MiB/s)` : 'n/a', n ? fmt(o.rps / n.rps, 2) : 'n/a']);
    }
  }
  if (existsSync(CHROMIUM)) {
    const { chromium } = await import('playwright-core');
    for (const h2 of [false, true]) {
      const times = [];
      let protocol = '?';
      for (let i = 0; i < LOADS; i++) {
        const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-proxy-server', '--host-resolver-rules=MAP *.test 127.0.0.1', '--ignore-certificate-errors', ...(h2 ? [] : ['--disable-http2'])] });
        const context = await browser.newContext();
        const page = await context.newPage();
        // Resource Timing hides a cross-origin protocol; Chromium's network layer says it.
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        const seen = new Set();
        cdp.on('Network.responseReceived', (e) => { if (e.response.url.includes('/img/')) seen.add(e.response.protocol); });
        await page.goto(`https://page.test:${tlsPort}/index.html`, { waitUntil: 'load' });
        const t = await page.evaluate('(() => { const n = performance.getEntriesByType("navigation")[0]; const imgs = performance.getEntriesByType("resource").filter((e) => e.name.includes("/img/")); return { load: n.loadEventStart, count: imgs.length }; })()');
        const r = /** @type {{ load: number, count: number }} */ (t);
        if (r.count !== 60) throw new Error(`page loaded ${r.count} of 60 images`);
        times.push(r.load);
        protocol = [...seen].join(',');
        await browser.close();
      }
      const label = `60-image page load, Chromium, ${h2 ? 'HTTP/2' : 'HTTP/1.1'} (median of ${LOADS}, negotiated ${protocol})`;
      log(`${label}: ${fmt(median(times), 0)} ms`);
      rows.push([label, `${fmt(median(times), 0)} ms`, '', '']);
    }
  }
  await nginx?.stop();
  await killChild(offload, 12000);
  removeDir(dir);
  const report = ['# HTTPS benchmark', '', `${new Date().toISOString()}, ${smoke ? 'smoke' : 'full'} run, wrk over HTTPS (HTTP/1.1), one Offload process, nginx 1 worker with the same P-256 certificate.`, '',
    '| case | Offload | nginx | Offload / nginx |', '| --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`), ''].join('\n');
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/out/BENCHMARKS.https.md'), report);
  console.log(report);
}

async function sequential(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

/** nginx 1 worker on TLS (HTTP/1.1 and h2) serving `files` from its own root. */
async function startTlsNginx(dir, cert, key, files) {
  const root = join(dir, 'nginx-root');
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  const prefix = join(dir, 'nginx');
  for (const d of ['tmp', 'logs']) mkdirSync(join(prefix, d), { recursive: true });
  const port = await freePort();
  const conf = `daemon off; master_process on; worker_processes 1; ${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${prefix}/nginx.pid; error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; use epoll; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; default_type application/octet-stream;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy; fastcgi_temp_path ${prefix}/tmp/fastcgi; uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  server { listen 127.0.0.1:${port} ssl http2; ssl_certificate ${cert}; ssl_certificate_key ${key}; ssl_protocols TLSv1.2 TLSv1.3; root ${root}; location / { } } }
`;
  const confPath = join(prefix, 'nginx.conf');
  writeFileSync(confPath, conf);
  const check = await run(NGINX, ['-t', '-q', '-p', prefix, '-c', confPath]);
  if (check.code !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  const child = await startChild(NGINX, ['-p', prefix, '-c', confPath], { probe: async () => (await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${port}/bench/small.bin`])).stdout === '200', name: 'nginx', timeoutMs: 15000 });
  return { url: `https://127.0.0.1:${port}`, stop: () => killChild(child, 3000) };
}

main().then(() => cleanupAll(), async (err) => {
  console.error(`bench/https: ${err.stack ?? err}`);
  await cleanupAll();
  process.exit(1);
});
