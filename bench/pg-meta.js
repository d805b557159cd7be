// @ts-check
/**
 * `node bench/pg-meta.js [--n 500]`: what PostgreSQL metadata costs per request against the
 * embedded SQLite. Starts a throw-away PostgreSQL (Debian's package, fsync on: production
 * settings) on a loopback port, one `offload serve` on SQLite and one with `--meta`, then times N
 * sequential small signed GETs and PUTs (1 KiB) through each (p50/p99), and counts the statements
 * PostgreSQL ran per operation (pg_stat_statements: each is one round trip, BEGIN/COMMIT included).
 * Prints a Markdown table. Needs a build (dist/) and the postgresql package.
 */
import './env.js';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { ROOT, s3Client } from './peers.js';
import { cleanupAll, freePort, killChild, onCleanup, startChild, tempDir } from './util.js';

const argv = process.argv.slice(2);
const N = argv.includes('--n') ? Number(argv[argv.indexOf('--n') + 1]) : 500;
const BODY = Buffer.alloc(1024, 'x');

/** A durable throw-away cluster; returns its URL and a stop function. */
async function startPostgres() {
  const root = '/usr/lib/postgresql';
  const major = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (!major) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const bin = join(root, major, 'bin');
  const asRoot = process.getuid?.() === 0;
  const dir = tempDir('offload-bench-pg-');
  const data = join(dir, 'data');
  const run = (/** @type {string} */ program, /** @type {string[]} */ args) => {
    const [cmd, argv2] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    const r = spawnSync(cmd, argv2, { cwd: '/', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${program}: ${r.stderr}`);
  };
  if (asRoot) {
    const id = (/** @type {string} */ flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  run('initdb', ['-D', data, '-U', 'offload', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  const conf = join(data, 'postgresql.auto.conf');
  writeFileSync(conf, `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = on\nsynchronous_commit = on\nshared_preload_libraries = 'pg_stat_statements'\n`);
  if (asRoot) spawnSync('chown', ['postgres', conf]);
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', 'start']);
  onCleanup(() => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']));
  const admin = new pg.Client(`postgres://offload@127.0.0.1:${port}/postgres`);
  await admin.connect();
  await admin.query('CREATE DATABASE offload');
  await admin.end();
  return `postgres://offload@127.0.0.1:${port}/offload`;
}

async function startServer(/** @type {string[]} */ extra) {
  const port = await freePort();
  const accessKeyId = 'BENCHROOTKEY00000000';
  const secretAccessKey = 'benchrootsecret0000000000000000000000000';
  const env = { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: accessKeyId, OFFLOAD_ROOT_SECRET_KEY: secretAccessKey };
  const args = [join(ROOT, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', tempDir('offload-bench-data-'), ...extra];
  const child = await startChild(process.execPath, args, { env, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000 });
  onCleanup(() => killChild(child, 10000));
  return s3Client(`http://127.0.0.1:${port}`, accessKeyId, secretAccessKey, 4);
}

const pct = (/** @type {number[]} */ xs, /** @type {number} */ p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** N sequential calls of fn; latencies in ms. */
async function time(/** @type {(i: number) => Promise<unknown>} */ fn) {
  for (let i = 0; i < 20; i++) await fn(i); // warm-up
  const ms = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return ms;
}

/** Statements PostgreSQL ran during fn (pg_stat_statements, our own two queries left out). */
async function statementsDuring(/** @type {pg.Client} */ stats, /** @type {() => Promise<unknown>} */ fn) {
  await stats.query('SELECT pg_stat_statements_reset()');
  await fn();
  const { rows } = await stats.query("SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'");
  return rows[0].n;
}

async function main() {
  const url = await startPostgres();
  const rows = [];
  const sqlite = await startServer([]);
  const postgres = await startServer(['--meta', url]);
  const stats = new pg.Client(url);
  await stats.connect();
  await stats.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  /** @type {Record<string, Record<string, number[]>>} */
  const lat = {};
  for (const [name, client] of /** @type {const} */ ([['SQLite', sqlite], ['PostgreSQL', postgres]])) {
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'small', Body: BODY }));
    const get = () => client.send(new GetObjectCommand({ Bucket: 'bench', Key: 'small' })).then((r) => r.Body?.transformToByteArray());
    const put = (/** @type {number} */ i) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: `put/${i % 100}`, Body: BODY }));
    lat[name] = { get: await time(get), put: await time(put) };
  }
  const perGet = (await statementsDuring(stats, async () => { for (let i = 0; i < 100; i++) await postgres.send(new GetObjectCommand({ Bucket: 'bench', Key: 'small' })).then((r) => r.Body?.transformToByteArray()); })) / 100;
  const perPut = (await statementsDuring(stats, async () => { for (let i = 0; i < 100; i++) await postgres.send(new PutObjectCommand({ Bucket: 'bench', Key: `rt/${i}`, Body: BODY })); })) / 100;
  const perBigPut = (await statementsDuring(stats, async () => { for (let i = 0; i < 20; i++) await postgres.send(new PutObjectCommand({ Bucket: 'bench', Key: `big/${i}`, Body: Buffer.alloc(1 << 20) })); })) / 20;
  const perGetAfterWrite = (await statementsDuring(stats, async () => {
    for (let i = 0; i < 50; i++) {
      await sqlite.send(new GetObjectCommand({ Bucket: 'bench', Key: 'small' })); // nothing: keeps the loop's shape
      await stats.query("SELECT offload_changed('objects')"); // another node's write
      await postgres.send(new GetObjectCommand({ Bucket: 'bench', Key: 'small' })).then((r) => r.Body?.transformToByteArray());
    }
  })) / 50 - 1;
  await stats.end();
  for (const op of ['get', 'put']) {
    const s = lat.SQLite[op], p = lat.PostgreSQL[op];
    rows.push(`| ${op === 'get' ? 'GET 1 KiB (signed)' : 'PUT 1 KiB (signed)'} | ${pct(s, 50).toFixed(2)} / ${pct(s, 99).toFixed(2)} | ${pct(p, 50).toFixed(2)} / ${pct(p, 99).toFixed(2)} | ${(pct(p, 50) - pct(s, 50)).toFixed(2)} |`);
  }
  console.log(`\nSequential, one client, N=${N}, latency in ms (p50 / p99):\n`);
  console.log('| operation | SQLite | PostgreSQL | added p50 |\n|---|---|---|---|');
  console.log(rows.join('\n'));
  console.log('\nStatements (= round trips) PostgreSQL ran per request, refresh() included:\n');
  console.log('| request | round trips |\n|---|---|');
  console.log(`| GET, metadata cached (nothing changed since) | ${perGet.toFixed(2)} |`);
  console.log(`| GET right after another node's write | ${perGetAfterWrite.toFixed(2)} |`);
  console.log(`| PUT 1 KiB (inline blob) | ${perPut.toFixed(2)} |`);
  console.log(`| PUT 1 MiB (blob file) | ${perBigPut.toFixed(2)} |`);
}

main().then(() => cleanupAll(), async (err) => {
  console.error(err);
  await cleanupAll();
  process.exit(1);
});
