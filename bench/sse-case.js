// @ts-check
/**
 * Cases 12 and 13 (`npm run bench -- --only sse`, and `node bench/sse.js`): encryption at rest and
 * the rate limiter, measured.
 *   12. SSE-S3 against plain for 1 MiB objects: PUT (AWS SDK, 8 in flight) and GET (wrk, 8
 *       connections), with the hot cache on (the default: small SSE-S3 objects are kept decrypted
 *       in memory) and off (every GET reads and decrypts the blob). Plain and SSE-S3 run in
 *       alternation within each round, so both see the same machine load; the ratio is taken per
 *       round and its median reported.
 *   13. The limiter's cost: anonymous 1 KiB GETs per second on this build with no limit configured,
 *       on a baseline build (OFFLOAD_BASELINE=/path/to/checkout, default /work/main when it has
 *       dist/), and on this build with a limit configured that is never reached.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ROOT, s3Client } from './peers.js';
import { wrk, pool } from './load.js';
import { tempDir, freePort, startChild, killChild, removeDir, median, fmt } from './util.js';

const MiB = 1 << 20;
const AK = 'BENCHROOTKEY00000000';
const SK = 'benchrootsecret0000000000000000000000000';
const TARGET = 0.8;

export const loadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
};

async function start(root, args = []) {
  const data = tempDir('offload-bench-sse-');
  const port = await freePort();
  const env = { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: AK, OFFLOAD_ROOT_SECRET_KEY: SK };
  const child = await startChild(process.execPath, [join(root, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data, ...args], { env, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000 });
  const url = `http://127.0.0.1:${port}`;
  return { url, client: s3Client(url, AK, SK), stop: async () => { await killChild(child, 12000); removeDir(data); } };
}

/** MiB/s of 1 MiB PUTs, 8 in flight, for `secs` seconds. */
async function putRate(client, bucket, secs) {
  const body = randomBytes(MiB);
  let n = 0;
  const t = performance.now();
  const r = await pool(1e9, 8, async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `put-${n++ % 64}`, Body: body }));
  }, t + secs * 1000);
  if (r.errors) throw new Error(`PUT to ${bucket}: ${r.errors} errors, first: ${/** @type {Error} */ (r.firstError)?.message}`);
  return r.done / ((performance.now() - t) / 1000);
}

async function getRate(url, secs) {
  const r = await wrk(url, { connections: 8, seconds: secs });
  if (r.error) throw new Error(`${url}: ${r.error}`);
  return r.rps;
}

/**
 * Runs `measure(which)` for plain and sealed in alternation, `rounds` times.
 * @param {number} rounds @param {(b: 'plain' | 'sealed') => Promise<number>} measure
 */
async function paired(rounds, measure) {
  /** @type {{ plain: number[], sealed: number[], ratios: number[] }} */ const out = { plain: [], sealed: [], ratios: [] };
  for (let i = 0; i < rounds; i++) {
    // Which goes first alternates too: a load change mid-round then biases neither side.
    const order = /** @type {const} */ (i % 2 ? ['sealed', 'plain'] : ['plain', 'sealed']);
    const got = {};
    for (const b of order) got[b] = await measure(b);
    out.plain.push(got.plain);
    out.sealed.push(got.sealed);
    out.ratios.push(got.sealed / got.plain);
  }
  return { plain: median(out.plain), sealed: median(out.sealed), ratio: median(out.ratios), ratios: out.ratios };
}

/** One server (hot cache on or off): PUT (optional) and GET, plain against SSE-S3. */
async function sseServer(o) {
  const keyDir = tempDir('offload-bench-key-');
  const keyFile = join(keyDir, 'master.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const server = await start(ROOT, ['--master-key-file', keyFile, '--hot-cache', o.hotCache]);
  try {
    const c = server.client;
    await c.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await c.send(new CreateBucketCommand({ Bucket: 'sealed' }));
    await c.send(new PutBucketEncryptionCommand({ Bucket: 'sealed', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    const body = randomBytes(MiB);
    for (const b of ['plain', 'sealed']) {
      await c.send(new PutObjectCommand({ Bucket: b, Key: 'one.bin', Body: body, ACL: 'public-read' }));
      const got = Buffer.from(await (await fetch(`${server.url}/${b}/one.bin`)).arrayBuffer());
      if (!got.equals(body)) throw new Error(`GET ${b}/one.bin did not give back the bytes put`);
    }
    const put = o.put ? await paired(o.rounds, (b) => putRate(c, b, o.secs)) : undefined;
    const get = await paired(o.rounds, (b) => getRate(`${server.url}/${b}/one.bin`, o.secs));
    return { put, get };
  } finally {
    await server.stop();
    removeDir(keyDir);
  }
}

/** @param {{ rounds: number, secs: number }} o */
export async function measureSse(o) {
  const cached = await sseServer({ ...o, hotCache: '64MiB', put: true });
  const uncached = await sseServer({ ...o, hotCache: '0', put: true });
  return { cached, uncached };
}

/** @param {{ rounds: number, secs: number }} o */
export async function measureLimiter(o) {
  const baselineRoot = process.env.OFFLOAD_BASELINE ?? '/work/main';
  /** @type {[string, string, string[]][]} */
  const setups = [['no limit configured', ROOT, []], ['limit configured, never reached', ROOT, ['--rate-limit-rps', '100000000', '--anonymous-rps', '100000000']]];
  if (existsSync(join(baselineRoot, 'dist')) && baselineRoot !== ROOT) setups.splice(1, 0, [`baseline build (${baselineRoot})`, baselineRoot, []]);
  const servers = [];
  try {
    for (const [name, root, args] of setups) {
      const server = await start(root, args);
      servers.push({ name, server, rps: /** @type {number[]} */ ([]) });
      await server.client.send(new CreateBucketCommand({ Bucket: 'small' }));
      await server.client.send(new PutObjectCommand({ Bucket: 'small', Key: 's.txt', Body: randomBytes(1024), ACL: 'public-read' }));
    }
    // All servers up at once, measured in alternation round by round.
    for (let i = 0; i < o.rounds; i++) for (const s of servers) s.rps.push(await getRate(`${s.server.url}/small/s.txt`, o.secs));
  } finally {
    for (const s of servers) await s.server.stop();
  }
  return servers.map((s) => ({ name: s.name, rps: median(s.rps) }));
}

const ratios = (xs) => xs.map((x) => `${fmt(x, 2)}x`).join(', ');

/**
 * Both cases in the bench report's form.
 * @param {import('./cases.js').Ctx} ctx @returns {Promise<import('./report.js').CaseResult[]>}
 */
export async function sseCases(ctx) {
  const o = { rounds: ctx.rounds, secs: Math.max(ctx.secs, 2) };
  const loadBefore = loadavg();
  ctx.label('12: SSE-S3');
  const { cached, uncached } = await measureSse(o);
  /** @type {import('./report.js').CaseResult} */
  const sse = { id: 12, title: 'Encryption at rest: SSE-S3 against plain, 1 MiB objects', columns: ['SSE-S3', 'plain'], rows: [], notes: [] };
  const row = (metric, r) => {
    sse.rows.push({ metric, values: { 'SSE-S3': r.sealed, plain: r.plain }, target: { text: `SSE-S3/plain >= ${TARGET}x (median of per-round ratios: ${fmt(r.ratio, 2)}x)`, met: Number.isFinite(r.ratio) ? r.ratio >= TARGET : null } });
    sse.notes.push(`${metric}: per-round SSE-S3/plain ratios ${ratios(r.ratios)}.`);
  };
  row('PUT 1 MiB, MiB/s (AWS SDK, 8 in flight)', cached.put);
  row('PUT 1 MiB, hot cache off, MiB/s', uncached.put);
  row('GET 1 MiB, hot cache on (decrypted copy in memory), MiB/s', cached.get);
  row('GET 1 MiB, hot cache off (every GET decrypts), MiB/s', uncached.get);
  sse.notes.push(`Plain and SSE-S3 alternate within each round (${o.rounds} rounds x ${o.secs} s); the table shows medians, the ratio in the Target column is the median of the per-round ratios. wrk 8 connections for GETs. Load average before: ${loadBefore}, after: ${loadavg()}.`);
  ctx.label('13: limiter');
  const lim = await measureLimiter(o);
  /** @type {import('./report.js').CaseResult} */
  const limiter = { id: 13, title: 'Rate limiter cost: anonymous GETs of a 1 KiB public object (wrk, 8 connections)', columns: lim.map((l) => l.name), rows: [], notes: [] };
  const base = lim.find((l) => l.name.startsWith('baseline'));
  const none = lim[0];
  limiter.rows.push({ metric: 'requests/s', values: Object.fromEntries(lim.map((l) => [l.name, l.rps])), digits: 0, target: base ? { text: 'no limit configured: no measurable drop against the baseline (>= 0.9x, machine noise)', met: none.rps / base.rps >= 0.9 } : undefined });
  limiter.notes.push(`${o.rounds} rounds x ${o.secs} s, the servers measured in alternation; medians. The baseline is another checkout's build (OFFLOAD_BASELINE, default /work/main when it has dist/)${base ? '' : ': none found, so no baseline column'}. Load average at the end: ${loadavg()}.`);
  return [sse, limiter];
}
