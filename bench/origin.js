// @ts-check
/**
 * Case 8: an origin bucket (pull-through cache) in front of nginx, against a plain bucket and the
 * origin itself: HIT throughput (should equal the plain bucket's), the latency a MISS adds over
 * fetching from nginx directly, and 256 concurrent clients on one cold key (origin requests: 1,
 * counted in nginx's access log).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { NGINX, ROOT, s3Client } from './peers.js';
import { wrk, medianWrk } from './load.js';
import { freePort, killChild, median, removeDir, startChild, tempDir, fmt, sleep } from './util.js';

const KEY = 'BENCHROOTKEY00000000';
const SECRET = 'benchrootsecret0000000000000000000000000';

/** nginx with an access log the case counts, Cache-Control on everything. */
async function originNginx(root) {
  const dir = tempDir('offload-bench-origin-nginx-');
  const port = await freePort();
  const log = join(dir, 'access.log');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { default_type application/octet-stream; log_format counted '$request_method $uri $status'; access_log ${log} counted;
  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server { listen 127.0.0.1:${port}; root ${root}; location / { add_header Cache-Control "public, max-age=3600"; } } }`);
  const child = await startChild(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { name: 'origin nginx', probe: () => fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false) });
  const lines = () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  return { url: `http://127.0.0.1:${port}`, requests: (path) => lines().filter((l) => l.split(' ')[1] === path).length, stop: async () => { await killChild(child); removeDir(dir); } };
}

/** One timed GET over a fresh connection each time (what a first visitor pays). */
function timedGet(url) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).on('error', reject).end();
  });
}

/** @param {import('./cases.js').Ctx} ctx @param {{ mode: string }} o @returns {Promise<import('./report.js').CaseResult>} */
export async function originCase(ctx, o) {
  /** @type {import('./report.js').CaseResult} */
  const c = { id: 10, title: 'Origin bucket (pull-through cache) in front of nginx', columns: ['plain bucket', 'origin bucket', 'nginx direct'], rows: [], notes: [] };
  ctx.label('10: origin');
  const root = tempDir('offload-bench-origin-www-');
  const small = randomBytes(10 * 1024);
  const missCount = o.mode === 'smoke' ? 5 : 30;
  writeFileSync(join(root, 'small.bin'), small);
  writeFileSync(join(root, 'cold.bin'), randomBytes(1 << 20));
  for (let i = 0; i < missCount * 2; i++) writeFileSync(join(root, `m${i}.bin`), randomBytes(100 * 1024));
  const nginx = await originNginx(root);
  const data = tempDir('offload-bench-origin-data-');
  mkdirSync(data, { recursive: true });
  const port = await freePort();
  const env = { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: KEY, OFFLOAD_ROOT_SECRET_KEY: SECRET };
  const server = await startChild(process.execPath, [join(ROOT, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data, '--allow-private-origins', '127.0.0.1'], { env, ready: /offload listening on http/, name: 'offload (origin)', timeoutMs: 30000 });
  const url = `http://127.0.0.1:${port}`;
  const client = s3Client(url, KEY, SECRET);
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await client.send(new PutObjectCommand({ Bucket: 'plain', Key: 'small.bin', Body: small, ACL: 'public-read', CacheControl: 'public, max-age=3600', ContentType: 'application/octet-stream' }));
    await client.send(new CreateBucketCommand({ Bucket: 'edge' }));
    const { signedRequest } = await import('../dist/cli/admin-client.js');
    const set = await signedRequest({ endpoint: url, region: 'us-east-1', accessKeyId: KEY, secretAccessKey: SECRET }, 'PUT', '/_offload/buckets/edge/origin', { body: JSON.stringify({ url: `${nginx.url}/`, public: true }) });
    if (set.status !== 200) throw new Error(`setting the origin: ${set.status} ${await set.text()}`);
    await timedGet(`${url}/edge/small.bin`);
    await sleep(300);

    // Warm both (the first wrk run against a fresh process is slower, whichever bucket it hits).
    for (const b of ['plain', 'edge']) await wrk(`${url}/${b}/small.bin`, { connections: 32, seconds: 1 });
    const hits = { plain: [], edge: [] };
    for (let round = 1; round <= ctx.rounds; round++) {
      for (const b of /** @type {const} */ (['plain', 'edge'])) {
        const r = await wrk(`${url}/${b}/small.bin`, { connections: 32, seconds: ctx.secs });
        if (r.error) ctx.fail(`origin case, ${b} HIT: ${r.error}`);
        hits[b].push(r);
        ctx.log(`  origin HIT round ${round} ${b}: ${fmt(r.rps)} req/s`);
      }
    }
    const plainRps = medianWrk(hits.plain).rps;
    const edgeRps = medianWrk(hits.edge).rps;
    c.rows.push({ metric: 'HIT requests/s, 10 KiB @ 32 conns', values: { 'plain bucket': plainRps, 'origin bucket': edgeRps }, better: 'higher', digits: 0, target: { text: 'origin bucket >= 0.9x plain bucket', met: Number.isFinite(edgeRps) ? edgeRps >= 0.9 * plainRps : null } });

    const direct = [];
    const miss = [];
    for (let i = 0; i < missCount; i++) {
      direct.push(await timedGet(`${nginx.url}/m${2 * i}.bin`));
      miss.push(await timedGet(`${url}/edge/m${2 * i + 1}.bin`));
    }
    const added = median(miss) - median(direct);
    c.rows.push({ metric: 'MISS latency, 100 KiB, new connection, median ms', values: { 'origin bucket': median(miss), 'nginx direct': median(direct) }, better: 'lower', digits: 2 });
    c.rows.push({ metric: 'latency a MISS adds over the origin, ms', values: { 'origin bucket': added }, better: 'lower', digits: 2 });

    const agent = new Agent({ maxSockets: 256 });
    const answers = await Promise.all(Array.from({ length: 256 }, () => new Promise((resolve) => {
      request(`${url}/edge/cold.bin`, { agent }, (res) => {
        let n = 0;
        res.on('data', (d) => (n += d.length));
        res.on('end', () => resolve(res.statusCode === 200 && n === 1 << 20));
      }).on('error', () => resolve(false)).end();
    })));
    agent.destroy();
    const asked = nginx.requests('/cold.bin');
    const ok = answers.filter(Boolean).length;
    if (ok !== 256) ctx.fail(`origin case: ${256 - ok} of 256 concurrent cold GETs failed`);
    c.rows.push({ metric: 'origin requests for 256 concurrent clients on one cold 1 MiB key', values: { 'origin bucket': asked }, better: 'lower', digits: 0, target: { text: '1', met: asked === 1 } });
    c.notes.push(`HIT: wrk on one 10 KiB object, plain bucket (uploaded) and origin bucket (filled from nginx), alternating, ${ctx.rounds} rounds of ${ctx.secs} s. MISS: ${missCount} distinct cold 100 KiB keys, one at a time over fresh connections, against the same number fetched from nginx directly. Origin requests counted in nginx's access log. One Offload process, nginx 1 worker, all on loopback.`);
  } finally {
    client.destroy();
    await killChild(server, 12000);
    removeDir(data);
    await nginx.stop();
    removeDir(root);
  }
  return c;
}
