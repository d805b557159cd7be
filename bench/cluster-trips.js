// @ts-check
/**
 * Round trips per S3 request from a PostgreSQL-metadata node, counted by the servers at the other
 * end, not by Offload: PostgreSQL's pg_stat_statements (every statement is one round trip,
 * BEGIN/COMMIT included; the bench's own statements run as another role and are left out) and the
 * RADOS Gateway's request counter (`perf dump` on its admin socket). Requests are sent one at a
 * time, so each window holds only them and the nodes' background writers, which are counted apart.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { run } from './util.js';
import { BUCKET, SMALL_KEY } from './cluster-nodes.js';

const STATS_ROLE = 'bench_stats';
/** Statements of the nodes' own timers: usage/metrics flush (every 2 s), blob collector, stale-upload sweep; and their transactions. */
const BACKGROUND = /usage_|metrics_|console_sessions|refs <= 0|FROM uploads|^\s*(BEGIN|COMMIT|ROLLBACK)/i;

/** A superuser role for the bench's own queries, so pg_stat_statements can leave them out. */
async function statsClient(/** @type {string} */ dbUrl) {
  const owner = new pg.Client(dbUrl);
  await owner.connect();
  await owner.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const exists = await owner.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [STATS_ROLE]);
  if (!exists.rowCount) await owner.query(`CREATE ROLE ${STATS_ROLE} SUPERUSER LOGIN`);
  await owner.end();
  const url = new URL(dbUrl);
  url.username = STATS_ROLE;
  const stats = new pg.Client(url.toString());
  await stats.connect();
  return stats;
}

/** The gateway's request count so far, or NaN without a gateway. */
async function gatewayRequests(/** @type {string | undefined} */ cephDir) {
  if (!cephDir) return NaN;
  const sock = readdirSync(join(cephDir, 'run')).find((f) => f.startsWith('ceph-client.rgw') && f.endsWith('.asok'));
  if (!sock) return NaN;
  const r = await run('ceph', ['--admin-daemon', join(cephDir, 'run', sock), 'perf', 'dump'], { timeoutMs: 20000 });
  try {
    return Number(JSON.parse(r.stdout).rgw.req);
  } catch {
    return NaN;
  }
}

/**
 * @param {{ dbUrl: string, nodes: import('./cluster-nodes.js').Node[], cephDir?: string, count: number }} o
 * nodes: two of one cluster (A writes and reads, B reads what A wrote); cephDir when its blobs are in Ceph.
 * @returns {Promise<Array<{ op: string, requestPath: number, background: number, blobStore: number }>>}
 */
export async function roundTrips(o) {
  const stats = await statsClient(o.dbUrl);
  const [a, b = o.nodes[0]] = o.nodes;
  const n = o.count;
  const small = Buffer.alloc(10 * 1024, 3);
  const blob = Buffer.alloc(80 * 1024, 4);
  const fetchOk = async (/** @type {string} */ url) => {
    const r = await fetch(url);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
  };
  const signedGet = (/** @type {import('./cluster-nodes.js').Node} */ node, /** @type {string} */ key) => node.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then((r) => r.Body?.transformToByteArray());
  const ops = /** @type {Array<[string, (i: number) => Promise<unknown>]>} */ ([
    ['GET 10 KiB public, metadata cached (nothing changed since)', () => fetchOk(`${a.url}/${BUCKET}/${SMALL_KEY}`)],
    ["GET 10 KiB public, right after a write elsewhere (another node's change counter moved)", async () => {
      await stats.query("SELECT offload_changed('objects')");
      await fetchOk(`${a.url}/${BUCKET}/${SMALL_KEY}`);
    }],
    ['PUT 10 KiB signed (inline in PostgreSQL)', (i) => a.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `trips/s${i}`, Body: small }))],
    ['PUT 80 KiB signed (a blob in the blob store)', (i) => a.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `trips/b${i}`, Body: blob }))],
    ['GET 80 KiB signed through another node (metadata and bytes not cached there)', (i) => signedGet(b, `trips/b${i}`)],
    ['GET 80 KiB signed again on that node (cached)', (i) => signedGet(b, `trips/b${i}`)],
    ['DELETE', (i) => a.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `trips/s${i}` }))],
  ]);
  const out = [];
  try {
    await fetchOk(`${a.url}/${BUCKET}/${SMALL_KEY}`);
    for (const [op, fn] of ops) {
      await stats.query('SELECT pg_stat_statements_reset()');
      const gw0 = await gatewayRequests(o.cephDir);
      for (let i = 0; i < n; i++) await fn(i);
      const gw1 = await gatewayRequests(o.cephDir);
      const { rows } = await stats.query(
        `SELECT query, calls::int AS calls FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND userid <> (SELECT oid FROM pg_roles WHERE rolname = $1)`,
        [STATS_ROLE],
      );
      let requestPath = 0;
      let background = 0;
      for (const r of rows) {
        if (/pg_stat_statements/.test(r.query)) continue;
        if (BACKGROUND.test(r.query)) background += r.calls;
        else requestPath += r.calls;
      }
      // The admin socket itself is no S3 request, but the gateway's own readiness probe is: gw1 - gw0 is S3 requests only.
      out.push({ op, requestPath: requestPath / n, background: background / n, blobStore: (gw1 - gw0) / n });
    }
  } finally {
    await stats.end();
  }
  return out;
}
