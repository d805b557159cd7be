// @ts-check
/**
 * `node bench/quota.js [--n 300] [--rounds 5] [--no-pg]`: what the quota triggers cost per PUT.
 * In-process, through the Store (no HTTP: the difference is not drowned by request handling):
 * N sequential 1 KiB putObject calls per round, in three set-ups taken in turn each round:
 *   before   the quota triggers dropped (the schema as it was without quotas)
 *   plain    triggers on, a bucket without a quota (what every bucket pays)
 *   quota    triggers on, a bucket with a quota (maxBytes, never reached)
 * on the embedded engine (SQLite, synchronous=FULL) and on PostgreSQL (fsync on; a throw-away
 * cluster from Debian's package). Prints the median time per PUT and the ratios to `before`.
 * With --no-sync the commits do not wait for the disk (SQLite: the same row changes as a PUT's
 * commit, straight on the database with synchronous=OFF; PostgreSQL: synchronous_commit off), so
 * the triggers' own CPU cost is not hidden in fsync time. Needs a build (dist/).
 */
import './env.js';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ROOT } from './peers.js';
import { cleanupAll, freePort, median, onCleanup, tempDir } from './util.js';

const argv = process.argv.slice(2);
const opt = (/** @type {string} */ name, /** @type {number} */ dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const N = opt('--n', 300);
const ROUNDS = opt('--rounds', 5);
const BODY = Buffer.alloc(1024, 'x');
const LIMITS = JSON.stringify({ maxBytes: 1e15 });
const NO_SYNC = argv.includes('--no-sync');

/** @param {any} store @param {string} bucket @param {string} tag */
async function putLoop(store, bucket, tag) {
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    await store.putObject({ bucket, key: `${tag}-${i % 50}`, body: Readable.from([BODY]), owner: 'bench', acl: { canned: 'private' }, userMeta: {} });
  }
  return (performance.now() - t) / N;
}

/** @param {any} store @param {{ drop: () => Promise<void>, create: () => Promise<void> }} triggers */
async function measure(store, triggers) {
  for (const b of ['plain', 'quota']) await store.createBucket({ name: b, owner: 'bench', region: 'us-east-1', acl: { canned: 'private' } });
  await store.setBucketConfig('quota', 'limits', LIMITS);
  /** @type {Record<string, number[]>} */
  const ms = { before: [], plain: [], quota: [] };
  await putLoop(store, 'plain', 'warm');
  /** @type {Record<string, () => Promise<number>>} */
  const setups = {
    before: async () => {
      await triggers.drop();
      const t = await putLoop(store, 'plain', 'before');
      await triggers.create();
      return t;
    },
    plain: () => putLoop(store, 'plain', 'plain'),
    quota: () => putLoop(store, 'quota', 'quota'),
  };
  const names = Object.keys(setups);
  for (let r = 0; r < ROUNDS; r++) {
    // A different order each round: a drift in the machine's load does not favour one set-up.
    for (let i = 0; i < names.length; i++) {
      const name = /** @type {string} */ (names[(i + r) % names.length]);
      ms[name]?.push(await /** @type {() => Promise<number>} */ (setups[name])());
    }
  }
  const before = median(ms.before);
  return Object.entries(ms).map(([name, xs]) => ({ name, ms: median(xs), ratio: median(xs) / before }));
}

/** A PUT's commit without the Store around it: the old row out, the new one in, one transaction, no fsync. */
async function sqliteRows(/** @type {string} */ dir) {
  const { openDatabase } = await import(join(ROOT, 'dist/storage/schema.js'));
  const db = openDatabase(dir);
  db.pragma('synchronous = OFF');
  const meta = JSON.stringify({ size: BODY.length, etag: '"x"', lastModified: Date.now(), owner: 'bench', acl: { canned: 'private' }, tags: {}, segments: [], userMeta: {} });
  const remove = db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?');
  const insert = db.prepare('INSERT OR REPLACE INTO objects (bucket, key, meta, modified) VALUES (?, ?, ?, ?)');
  const commit = db.transaction((/** @type {string} */ bucket, /** @type {string} */ key) => {
    remove.run(bucket, key);
    insert.run(bucket, key, meta, Date.now());
  });
  return {
    createBucket: async (/** @type {{ name: string }} */ b) => void db.prepare("INSERT INTO buckets (name, owner, created_at, region, acl) VALUES (?, 'bench', 0, 'us-east-1', '{}')").run(b.name),
    setBucketConfig: async (/** @type {string} */ b, /** @type {string} */ kind, /** @type {string} */ v) => void db.prepare('INSERT OR REPLACE INTO bucket_configs (bucket, kind, value) VALUES (?, ?, ?)').run(b, kind, v),
    putObject: async (/** @type {{ bucket: string, key: string }} */ p) => commit(p.bucket, p.key),
    close: async () => db.close(),
  };
}

async function sqlite() {
  const { openStore } = await import(join(ROOT, 'dist/storage/engine.js'));
  const { QUOTA_SCHEMA } = await import(join(ROOT, 'dist/storage/quota-sql.js'));
  const dir = tempDir('offload-bench-quota-');
  const store = NO_SYNC ? await sqliteRows(dir) : await openStore(dir);
  onCleanup(() => store.close());
  const side = new Database(join(dir, 'meta.db'));
  const names = side.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'quota_objects_%'").all().map((r) => /** @type {{ name: string }} */ (r).name);
  return measure(store, {
    drop: async () => {
      for (const n of names) side.exec(`DROP TRIGGER ${n}`);
    },
    create: async () => void side.exec(QUOTA_SCHEMA),
  });
}

async function startPostgres() {
  const root = '/usr/lib/postgresql';
  const major = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (!major) return undefined;
  const bin = join(root, major, 'bin');
  const asRoot = process.getuid?.() === 0;
  const dir = tempDir('offload-bench-quota-pg-');
  const data = join(dir, 'data');
  const run = (/** @type {string} */ program, /** @type {string[]} */ args) => {
    const [cmd, rest] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    const r = spawnSync(cmd, rest, { cwd: '/', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${program}: ${r.stderr}`);
  };
  if (asRoot) {
    const id = (/** @type {string} */ flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  run('initdb', ['-D', data, '-U', 'offload', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  const conf = join(data, 'postgresql.auto.conf');
  writeFileSync(conf, `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = on\nsynchronous_commit = on\n`);
  if (asRoot) spawnSync('chown', ['postgres', conf]);
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', 'start']);
  onCleanup(() => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']));
  const admin = new pg.Client(`postgres://offload@127.0.0.1:${port}/postgres`);
  await admin.connect();
  await admin.query('CREATE DATABASE offload');
  if (NO_SYNC) await admin.query('ALTER DATABASE offload SET synchronous_commit = off');
  await admin.end();
  return `postgres://offload@127.0.0.1:${port}/offload`;
}

async function postgres() {
  const url = await startPostgres();
  if (!url) return undefined;
  const { openPgStore } = await import(join(ROOT, 'dist/storage/postgres/store.js'));
  const store = await openPgStore(url, { blobDir: tempDir('offload-bench-quota-blobs-') });
  onCleanup(() => store.close());
  const side = new pg.Client(url);
  await side.connect();
  onCleanup(() => side.end());
  return measure(store, {
    drop: async () => void (await side.query('DROP TRIGGER objects_quota ON objects')),
    create: async () => void (await side.query('CREATE TRIGGER objects_quota AFTER INSERT OR UPDATE OR DELETE ON objects FOR EACH ROW EXECUTE FUNCTION offload_quota_objects()')),
  });
}

try {
  const rows = [['SQLite (embedded)', await sqlite()]];
  if (!argv.includes('--no-pg')) {
    const pgRows = await postgres();
    if (pgRows) rows.push(['PostgreSQL (--meta)', pgRows]);
  }
  console.log(`\nPer-PUT cost of the quota triggers: ${ROUNDS} rounds x ${N} sequential 1 KiB putObject calls (median of rounds)${NO_SYNC ? ', commits not waiting for the disk' : ''}\n`);
  console.log('| store | set-up | ms per PUT | ratio to before |');
  console.log('|---|---|---|---|');
  for (const [store, results] of rows) {
    for (const r of /** @type {{ name: string, ms: number, ratio: number }[]} */ (results)) console.log(`| ${store} | ${r.name} | ${r.ms.toFixed(3)} | ${r.ratio.toFixed(3)} |`);
  }
} finally {
  await cleanupAll();
}
