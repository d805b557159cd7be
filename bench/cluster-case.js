// @ts-check
/**
 * Case 11 of `npm run bench` (alone: `npm run bench -- --only cluster`, or `npm run bench:cluster`):
 * Offload on PostgreSQL metadata with 1, 2 and 3 nodes, blobs in a shared folder and in Ceph's RADOS
 * Gateway (`--blobs s3://...`), against the embedded single node (SQLite), with the gateway itself
 * as the peer (the same anonymous GET of a public object, the same SDK-signed PUTs sent straight to
 * it). Every server runs at once; the measurements alternate between them within each round. Then
 * latency at one connection (what PostgreSQL and the blob store add per request) and round trips
 * per request (bench/cluster-trips.js). PostgreSQL and Ceph come from the tests' helpers (bench/infra.js).
 */
import { readFileSync } from 'node:fs';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startCeph, startPostgres } from './infra.js';
import { cephBlobsUrl, clusterTargets, gatewayNode, seedBucket, startCluster, startNode } from './cluster-nodes.js';
import { getRun, putRun } from './cluster-load.js';
import { roundTrips } from './cluster-trips.js';
import { latencyTable, throughputTable, tripsTable } from './cluster-report.js';
import { medianWrk } from './load.js';
import { fmt, onCleanup, removeDir, tempDir } from './util.js';

/** @typedef {import('./cluster-nodes.js').Target} Target */

const KiB = 1024;
const SMALL_PUT = 10 * KiB;
/** Above the 64 KiB PostgreSQL keeps inline (src/storage/blobs.ts INLINE_LIMIT): these bytes go to the blob store. */
const BLOB_PUT = 80 * KiB;
const LOAD = { connections: 30, threads: 6 };
const SEQUENTIAL = { connections: 1, threads: 1 };
const PARAMS = {
  full: { rounds: 3, secs: 4, nodes: 3, ceph: true, prepared: [800, 150], trips: 100 },
  quick: { rounds: 2, secs: 2, nodes: 3, ceph: true, prepared: [400, 80], trips: 50 },
  smoke: { rounds: 1, secs: 1, nodes: 2, ceph: false, prepared: [100, 20], trips: 20 },
};
const EMBEDDED = 'embedded (SQLite, data folder), 1 node';
const PEER = 'Ceph RGW itself (the peer)';
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * @param {import('./cases.js').Ctx} ctx @param {{ mode: string }} o
 * @returns {Promise<import('./report.js').CaseResult>}
 */
export async function clusterCase(ctx, { mode }) {
  const p = PARAMS[/** @type {keyof typeof PARAMS} */ (mode)] ?? PARAMS.quick;
  /** @type {import('./report.js').CaseResult} */
  const c = { id: 11, title: 'Cluster: 1-3 nodes on PostgreSQL metadata (blobs in a shared folder / in Ceph RGW), the embedded node, Ceph RGW as the peer', columns: ['PostgreSQL'], rows: [], notes: [], markdown: [] };
  const load0 = loadavg();
  ctx.label('11: cluster setup');
  const pg = await startPostgres().catch((err) => { c.notes.push(`PostgreSQL could not start: ${String(err.message).slice(0, 300)}`); return null; });
  if (!pg) {
    c.notes.push('n/a: needs Debian\'s postgresql package (apt-get install postgresql).');
    return c;
  }
  onCleanup(() => pg.stop());
  const ceph = p.ceph ? await startCeph().catch((err) => { c.notes.push(`Ceph could not start, its rows are n/a: ${String(err.message).slice(0, 300)}`); return null; }) : null;
  if (ceph) onCleanup(() => ceph.stop());
  else if (p.ceph) c.notes.push('Ceph rows n/a: needs ceph-mon, ceph-osd, radosgw (Debian).');
  else c.notes.push(`--${mode}: ${p.nodes} nodes with blobs in a shared folder only; Ceph (the blob backend and the peer) is left out to keep the run short (it is in --quick and the full run; test:cluster tests it).`);

  const embedded = await startNode();
  onCleanup(() => embedded.stop());
  await seedBucket(embedded);
  const shared = tempDir('offload-bench-shared-blobs-');
  const folderDb = await pg.createDatabase('folder_blobs');
  const folderNodes = await startCluster(folderDb, shared, p.nodes);
  onCleanup(async () => { await Promise.all(folderNodes.map((n) => n.stop())); removeDir(shared); });
  /** @type {Target[]} */
  const targets = [{ name: EMBEDDED, kind: 'embedded', nodes: [embedded] }, ...clusterTargets(folderNodes, 'folder')];
  /** @type {{ dbUrl: string, nodes: import('./cluster-nodes.js').Node[], cephDir?: string }} */
  let tripsOn = { dbUrl: folderDb, nodes: folderNodes };
  if (ceph) {
    const gateway = await gatewayNode(ceph);
    await gateway.client.send(new CreateBucketCommand({ Bucket: 'offload-blobs' }));
    const dbUrl = await pg.createDatabase('ceph_blobs');
    const cephNodes = await startCluster(dbUrl, cephBlobsUrl(ceph, 'offload-blobs'), p.nodes);
    onCleanup(() => Promise.all(cephNodes.map((n) => n.stop())).then(() => undefined));
    targets.push(...clusterTargets(cephNodes, 'ceph'), { name: PEER, kind: 'peer', nodes: [gateway] });
    tripsOn = { dbUrl, nodes: cephNodes, cephDir: ceph.dir };
  }
  const single = targets.filter((t) => t.nodes.length === 1);
  const scratch = tempDir('offload-bench-cluster-');

  /** @type {Record<string, Record<string, any[]>>} */ const results = {};
  const measure = async (/** @type {string} */ what, /** @type {Target[]} */ list, /** @type {(t: Target, round: number) => Promise<any>} */ fn) => {
    ctx.label(`11: ${what}`);
    for (let round = 1; round <= p.rounds; round++) {
      for (const t of list) {
        const r = await fn(t, round);
        ((results[what] ??= {})[t.name] ??= []).push(r);
        ctx.log(`  ${what} round ${round} ${t.name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${r.error ? ` ERROR ${r.error}` : ''}`);
        if (r.error) {
          const text = `${what}, ${t.name}, round ${round}: ${r.error}`;
          c.notes.push(text);
          if (t.kind !== 'peer') ctx.fail(text);
        }
      }
    }
  };
  const tag = (/** @type {Target} */ t, /** @type {string} */ what, /** @type {number} */ round) => `${what}-${targets.indexOf(t)}-${round}`;
  const seconds = p.secs;
  await measure('GET', targets, (t) => getRun(t, { ...LOAD, seconds }));
  await measure('PUT small', targets, (t, r) => putRun(t, Buffer.alloc(SMALL_PUT, 0x61), p.prepared[0], tag(t, 'ps', r), scratch, { ...LOAD, seconds }));
  await measure('PUT blob', targets, (t, r) => putRun(t, Buffer.alloc(BLOB_PUT, 0x62), p.prepared[1], tag(t, 'pb', r), scratch, { ...LOAD, seconds }));
  await measure('sequential GET', single, (t) => getRun(t, { ...SEQUENTIAL, seconds }));
  await measure('sequential PUT small', single, (t, r) => putRun(t, Buffer.alloc(SMALL_PUT, 0x63), p.prepared[1], tag(t, 'ss', r), scratch, { ...SEQUENTIAL, seconds }));
  await measure('sequential PUT blob', single, (t, r) => putRun(t, Buffer.alloc(BLOB_PUT, 0x64), p.prepared[1], tag(t, 'sb', r), scratch, { ...SEQUENTIAL, seconds }));

  ctx.label('11: round trips');
  const trips = await roundTrips({ ...tripsOn, count: p.trips });
  for (const t of trips) ctx.log(`  round trips, ${t.op}: PostgreSQL ${t.requestPath.toFixed(2)} (+${t.background.toFixed(2)} background), blob store ${fmt(t.blobStore, 2)}`);

  const med = (/** @type {string} */ what) => Object.fromEntries(Object.entries(results[what] ?? {}).map(([k, v]) => [k, medianWrk(v)]));
  const peer = targets.some((t) => t.kind === 'peer') ? PEER : undefined;
  const md = /** @type {string[]} */ (c.markdown);
  md.push(...throughputTable(`Anonymous GET of a 10 KiB public object, ${LOAD.connections} connections`, 'GET req/s', targets, med('GET'), EMBEDDED, peer));
  md.push(...throughputTable(`Signed PUT of 10 KiB (kept inline in PostgreSQL), ${LOAD.connections} connections`, 'PUT/s', targets, med('PUT small'), EMBEDDED, peer));
  md.push(...throughputTable(`Signed PUT of 80 KiB (bytes to the blob store), ${LOAD.connections} connections`, 'PUT/s', targets, med('PUT blob'), EMBEDDED, peer));
  md.push(...latencyTable([
    { what: 'GET 10 KiB public', res: med('sequential GET') },
    { what: 'PUT 10 KiB signed', res: med('sequential PUT small') },
    { what: 'PUT 80 KiB signed', res: med('sequential PUT blob') },
  ], single.map((t) => t.name), EMBEDDED));
  md.push(...tripsTable(trips, tripsOn.cephDir ? 'the cluster with its blobs in Ceph RGW' : 'the cluster with its blobs in a shared folder'));

  const trip = (/** @type {RegExp} */ re) => trips.find((t) => re.test(t.op))?.requestPath ?? NaN;
  const cached = trip(/metadata cached/);
  const put = trip(/^PUT 10 KiB/);
  c.rows.push({ metric: 'PostgreSQL round trips per cached GET', values: { PostgreSQL: cached }, target: { text: 'one metadata round trip (issue 15)', met: Number.isFinite(cached) ? cached <= 1 : null } });
  c.rows.push({ metric: 'PostgreSQL round trips per PUT <= 64 KiB (the change check + the write)', values: { PostgreSQL: put }, target: { text: 'at most one transaction (issue 15)', met: Number.isFinite(put) ? put <= 2 : null } });

  c.notes.push(`Every server runs at once on this one machine (nodes, PostgreSQL 15 with fsync and synchronous_commit on, Ceph's mon/OSD/gateway, wrk); measurements alternate between configurations, ${p.rounds} round(s) of ${p.secs} s, medians. The 1- and 2-node rows use the first nodes of the ${p.nodes}-node cluster (the others idle).`);
  c.notes.push(`Load balancing: one wrk per measurement, ${LOAD.threads} threads x ${LOAD.connections / LOAD.threads} connections, thread i connected to node i mod N (bench/nodes.lua): each node gets an equal share of the ${LOAD.connections} keep-alive connections, as a TCP round-robin balancer would give them, with no proxy process taking CPU from the same two cores (an nginx in front would cost the cluster rows a hop the single servers do not pay). The single servers get the same wrk with the same threads.`);
  c.notes.push('PUTs: PutObject requests built and signed by the AWS SDK (SigV4 over the body\'s SHA-256, no extra SDK checksum: Ceph 16 refuses its trailers) before the clock starts, the same way for every server, replayed by wrk (distinct keys, then overwrites); Offload acknowledges each only after its metadata commit (PostgreSQL fsync, or SQLite group commit) and, at 80 KiB, its blob is durable in the store.');
  c.notes.push('The gateway stores on memstore (the OSD keeps objects in RAM: test/helpers/ceph.ts), which flatters it both as the peer and as the blob store; Offload\'s hot cache (64 MiB) answers repeated GETs without reading the blob store.');
  c.notes.push(`Round trips: one S3 request at a time through one node (${p.trips} of each), PostgreSQL's own statement counts (a statement = a round trip; the bench's queries run as another role and are left out) and the gateway's request counter. "Background" is the nodes' usage/metrics flush every 2 s and the blob collector in that window, not part of the request.`);
  c.notes.push(`Load average (1/5/15 min) at the case's start: ${load0}; at its end: ${loadavg()}.`);
  return c;
}
