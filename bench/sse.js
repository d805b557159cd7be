// @ts-check
/**
 * `node bench/sse.js [--secs N] [--rounds N]`: encryption at rest and the limiter, measured.
 *   1. SSE-S3 against plain for 1 MiB objects: PUT (AWS SDK, 8 in flight) and GET (wrk, 8
 *      connections), with the hot cache on (the default: small SSE-S3 objects are kept decrypted)
 *      and off (every GET decrypts). Reports MiB/s and the SSE/plain ratio.
 *   2. The limiter's cost: small-object GETs per second with no limit configured on this build,
 *      on a baseline build without the limiter (OFFLOAD_BASELINE=/path/to/checkout, default
 *      /work/main when it has dist/), and with a limit configured that is never reached.
 */
import './env.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileSync, existsSync } from 'node:fs';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ROOT, s3Client } from './peers.js';
import { wrk, medianWrk, pool } from './load.js';
import { tempDir, freePort, startChild, killChild, removeDir, cleanupAll, median, fmt } from './util.js';

const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const SECS = arg('--secs', 4);
const ROUNDS = arg('--rounds', 3);
const MiB = 1 << 20;
const AK = 'BENCHROOTKEY00000000';
const SK = 'benchrootsecret0000000000000000000000000';

async function start(root, args = []) {
  const data = tempDir('offload-bench-sse-');
  const port = await freePort();
  const env = { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: AK, OFFLOAD_ROOT_SECRET_KEY: SK };
  const child = await startChild(process.execPath, [join(root, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data, ...args], { env, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000 });
  const url = `http://127.0.0.1:${port}`;
  return { url, client: s3Client(url, AK, SK), stop: async () => { await killChild(child, 12000); removeDir(data); } };
}

/** MiB/s of 1 MiB PUTs, 8 in flight, for SECS seconds. */
async function putRate(client, bucket) {
  const body = randomBytes(MiB);
  let n = 0;
  const t = performance.now();
  const deadline = t + SECS * 1000;
  await pool(1e9, 8, async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `put-${n++ % 64}`, Body: body }));
  }, deadline);
  return n / ((performance.now() - t) / 1000);
}

async function getRate(url) {
  const results = [];
  for (let i = 0; i < ROUNDS; i++) results.push(await wrk(url, { connections: 8, seconds: SECS }));
  const m = medianWrk(results);
  if (m.error) throw new Error(m.error);
  return m.rps;
}

async function sseCase(hotCache) {
  const keyDir = tempDir('offload-bench-key-');
  const keyFile = join(keyDir, 'master.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const server = await start(ROOT, ['--master-key-file', keyFile, '--hot-cache', hotCache]);
  try {
    const c = server.client;
    await c.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await c.send(new CreateBucketCommand({ Bucket: 'sealed' }));
    await c.send(new PutBucketEncryptionCommand({ Bucket: 'sealed', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    const body = randomBytes(MiB);
    for (const b of ['plain', 'sealed']) await c.send(new PutObjectCommand({ Bucket: b, Key: 'one.bin', Body: body, ACL: 'public-read' }));
    const puts = { plain: [], sealed: [] };
    for (let i = 0; i < ROUNDS; i++) for (const b of ['plain', 'sealed']) puts[b].push(await putRate(c, b));
    const gets = {};
    for (const b of ['plain', 'sealed']) gets[b] = await getRate(`${server.url}/${b}/one.bin`);
    return { put: { plain: median(puts.plain), sealed: median(puts.sealed) }, get: gets };
  } finally {
    await server.stop();
    removeDir(keyDir);
  }
}

async function limiterCase() {
  const baselineRoot = process.env.OFFLOAD_BASELINE ?? '/work/main';
  const setups = [['this build, no limit configured', ROOT, []], ['this build, --rate-limit-rps 1e8 (active, never reached)', ROOT, ['--rate-limit-rps', '100000000', '--anonymous-rps', '100000000']]];
  if (existsSync(join(baselineRoot, 'dist'))) setups.unshift([`baseline ${baselineRoot} (no limiter)`, baselineRoot, []]);
  const out = [];
  for (const [name, root, args] of setups) {
    const server = await start(root, args);
    try {
      await server.client.send(new CreateBucketCommand({ Bucket: 'small' }));
      await server.client.send(new PutObjectCommand({ Bucket: 'small', Key: 's.txt', Body: randomBytes(1024), ACL: 'public-read' }));
      out.push({ name, rps: await getRate(`${server.url}/small/s.txt`) });
    } finally {
      await server.stop();
    }
  }
  return out;
}

try {
  const lines = [`SSE-S3 vs plain, 1 MiB objects (${ROUNDS} rounds x ${SECS} s, medians):`];
  for (const hot of ['64MiB', '0']) {
    const r = await sseCase(hot);
    lines.push(`  hot cache ${hot === '0' ? 'off' : 'on (default)'}: PUT plain ${fmt(r.put.plain)} MiB/s, SSE-S3 ${fmt(r.put.sealed)} MiB/s, ratio ${fmt(r.put.sealed / r.put.plain, 2)}x; GET plain ${fmt(r.get.plain)} MiB/s, SSE-S3 ${fmt(r.get.sealed)} MiB/s, ratio ${fmt(r.get.sealed / r.get.plain, 2)}x`);
    console.log(lines.at(-1));
  }
  lines.push('Limiter cost, anonymous GETs of a 1 KiB public object (wrk, 8 connections):');
  for (const r of await limiterCase()) {
    lines.push(`  ${r.name}: ${fmt(r.rps, 0)} req/s`);
    console.log(lines.at(-1));
  }
  console.log('\n' + lines.join('\n'));
} finally {
  await cleanupAll();
}
