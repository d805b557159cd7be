// @ts-check
/**
 * `npm run bench:cluster`: Offload as 1, 2 and 3 nodes on one PostgreSQL (`serve --meta
 * postgres://... --blobs <shared folder>`) against the single embedded node (SQLite), on this
 * one machine: small anonymous GETs (wrk, one per node at once, connections split across nodes)
 * and signed 4 KiB PUTs (AWS SDK, concurrency split across nodes), throughput and p50/p99; and
 * PostgreSQL round trips per operation, counted in-process by PgDb (dist/). PostgreSQL runs with
 * fsync on. All on 2 shared cores: read the ratios, not the absolute numbers.
 */
import './env.js';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { ROOT, s3Client } from './peers.js';
import { wrk, putLoop } from './load.js';
import { freePort, onCleanup, cleanupAll, startChild, killChild, tempDir, removeDir } from './util.js';

const secs = Number(process.argv[process.argv.indexOf('--secs') + 1]) || 5;
const KEY = 'BENCHROOTKEY00000000';
const SECRET = 'benchrootsecret0000000000000000000000000';

async function startPg() {
  const bin = '/usr/lib/postgresql/15/bin';
  const dir = mkdtempSync(join(tmpdir(), 'offload-bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  const sh = (prog, args) => {
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, prog), ...args], { cwd: '/', encoding: 'utf8' }) : spawnSync(join(bin, prog), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${prog}: ${r.stderr}`);
  };
  if (asRoot) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres']).stdout), Number(spawnSync('id', ['-g', 'postgres']).stdout));
  sh('initdb', ['-D', join(dir, 'data'), '-U', 'offload', '--auth=trust', '--no-instructions', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  writeFileSync(join(dir, 'data', 'postgresql.auto.conf'), `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nmax_connections = 200\nshared_buffers = 64MB\n`);
  if (asRoot) spawnSync('chown', ['postgres:postgres', join(dir, 'data', 'postgresql.auto.conf')]);
  sh('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', 'start']);
  onCleanup(() => { sh('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']); removeDir(dir); });
  const base = `postgres://offload@127.0.0.1:${port}/`;
  return {
    async database(name) {
      const c = new pg.Client(`${base}postgres`);
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return `${base}${name}`;
    },
  };
}

async function startNode(args) {
  const port = await freePort();
  const data = tempDir('offload-bench-node-');
  const child = await startChild(process.execPath, [join(ROOT, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data, ...args], {
    env: { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: KEY, OFFLOAD_ROOT_SECRET_KEY: SECRET }, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000,
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, client: s3Client(url, KEY, SECRET), stop: async () => { await killChild(child, 12000); removeDir(data); } };
}

/** One configuration: small GETs and signed PUTs spread over its nodes at once. */
async function measure(name, nodes) {
  const first = nodes[0].client;
  await first.send(new CreateBucketCommand({ Bucket: 'bench', ACL: 'public-read' }));
  await first.send(new PutObjectCommand({ Bucket: 'bench', Key: 'small.bin', Body: Buffer.alloc(10 * 1024, 7), ACL: 'public-read' }));
  const gets = await Promise.all(nodes.map((n) => wrk(`${n.url}/bench/small.bin`, { connections: Math.max(2, Math.round(32 / nodes.length)), seconds: secs, threads: 1 })));
  const puts = await Promise.all(nodes.map((n, i) => putLoop(n.client, 'bench', Buffer.alloc(4096, 1), { seconds: secs, concurrency: Math.max(2, Math.round(16 / nodes.length)), prefix: `p${i}` })));
  const errors = [...gets.map((g) => g.error), ...puts.map((p) => p.error)].filter(Boolean);
  return {
    name,
    getRps: gets.reduce((s, g) => s + g.rps, 0),
    getP50: Math.max(...gets.map((g) => g.p50)),
    getP99: Math.max(...gets.map((g) => g.p99)),
    putRps: puts.reduce((s, p) => s + p.opsPerSec, 0),
    errors,
  };
}

/** PostgreSQL round trips per operation, counted by PgDb in this process. */
async function roundTrips(url, blobDir) {
  const { openPgStore } = await import(join(ROOT, 'dist/storage/postgres/store.js'));
  const store = await openPgStore(url, { blobDir });
  const acl = { canned: 'private' };
  await store.createBucket({ name: 'rt', owner: 'o', region: 'us-east-1', acl });
  const put = (key, size) => store.putObject({ bucket: 'rt', key, body: Readable.from([Buffer.alloc(size, 1)]), owner: 'o', acl, userMeta: {} });
  const per = async (n, fn) => {
    const before = store.db.roundTrips;
    for (let i = 0; i < n; i++) await fn(i);
    return (store.db.roundTrips - before) / n;
  };
  await put('hot', 10 * 1024);
  const out = {
    'PUT 4 KiB (inline)': await per(50, (i) => put(`small/${i}`, 4096)),
    'PUT 1 MiB (blob)': await per(20, (i) => put(`big/${i}`, 1024 * 1024)),
    'GET, metadata cached (refresh + open)': await per(50, async () => { await store.refresh(); (await store.openObject('rt', 'hot'))?.close(); }),
    'HEAD of another key (refresh + head)': await per(50, async (i) => { await store.refresh(); await store.headObject('rt', `small/${i}`); }),
    'DELETE': await per(50, (i) => store.deleteObject('rt', `small/${i}`)),
  };
  await store.close();
  return out;
}

const pgServer = await startPg();
const results = [];
try {
  const sqlite = [await startNode([])];
  results.push(await measure('1 node, SQLite (embedded)', sqlite));
  await Promise.all(sqlite.map((n) => n.stop()));
  for (const count of [1, 2, 3]) {
    const url = await pgServer.database(`n${count}`);
    const shared = tempDir('offload-bench-blobs-');
    const nodes = [];
    for (let i = 0; i < count; i++) nodes.push(await startNode(['--meta', url, '--blobs', shared]));
    results.push(await measure(`${count} node${count > 1 ? 's' : ''}, PostgreSQL`, nodes));
    await Promise.all(nodes.map((n) => n.stop()));
    removeDir(shared);
  }
  const trips = await roundTrips(await pgServer.database('trips'), tempDir('offload-bench-rt-'));
  const base = results[0];
  console.log(`\n| configuration | small GET req/s | x SQLite | GET p50 ms | GET p99 ms | signed PUT/s | x SQLite |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (const r of results) console.log(`| ${r.name} | ${r.getRps.toFixed(0)} | ${(r.getRps / base.getRps).toFixed(2)} | ${r.getP50.toFixed(2)} | ${r.getP99.toFixed(2)} | ${r.putRps.toFixed(0)} | ${(r.putRps / base.putRps).toFixed(2)} |${r.errors.length ? ` errors: ${r.errors.join('; ')}` : ''}`);
  console.log(`\n| operation | PostgreSQL round trips |`);
  console.log(`|---|---|`);
  for (const [op, n] of Object.entries(trips)) console.log(`| ${op} | ${n.toFixed(2)} |`);
} finally {
  await cleanupAll();
}
