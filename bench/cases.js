// @ts-check
/** Cases 1-5: GETs (small, large, range) with wrk, signed PUTs and ListObjectsV2 paging with the SDK. */
import { wrk, medianWrk, putLoop, fillBucket, pageThrough } from './load.js';
import { replay, signedPutRequests } from './replay.js';
import { median, fmt } from './util.js';

/**
 * @typedef {import('./report.js').CaseResult} CaseResult
 * @typedef {{ name: string, objectUrl: (b: string, k: string) => string, client?: import('@aws-sdk/client-s3').S3Client }} Server
 * @typedef {{ rounds: number, secs: number, log: (s: string) => void, fail: (s: string) => void, label: (s: string) => void }} Ctx
 */

/** Runs `measure(server)` for each round, servers in alternation; returns name -> list of results. */
async function alternate(ctx, servers, what, measure) {
  /** @type {Record<string, any[]>} */ const out = {};
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const s of servers) {
      const r = await measure(s, round);
      (out[s.name] ??= []).push(r);
      ctx.log(`  ${what} round ${round} ${s.name}: ${summary(r)}`);
    }
  }
  return out;
}

function summary(r) {
  const parts = [];
  if (Number.isFinite(r.rps)) parts.push(`${fmt(r.rps)} req/s`, `p50 ${fmt(r.p50, 2)} ms`, `p99 ${fmt(r.p99, 2)} ms`);
  if (Number.isFinite(r.opsPerSec)) parts.push(`${fmt(r.opsPerSec)} ops/s`, `${fmt(r.mbPerSec)} MB/s`);
  if (Number.isFinite(r.medianMs)) parts.push(`${fmt(r.medianMs, 2)} ms/page over ${r.keys} keys`);
  if (r.error) parts.push(`ERROR ${r.error}`);
  return parts.join(', ');
}

/** Notes errors: Offload's are failures, peers' are reported. */
function noteErrors(ctx, c, results, what) {
  for (const [name, list] of Object.entries(results)) {
    const errs = list.map((r) => r.error).filter(Boolean);
    if (!errs.length) continue;
    const text = `${what}, ${name}: ${errs.length}/${list.length} runs had errors (${errs[0]})`;
    c.notes.push(text);
    if (name === 'Offload') ctx.fail(text);
  }
}

const target = (text, met) => ({ text, met: met === undefined || Number.isNaN(met) ? null : met });
const gt = (a, b, k) => (Number.isFinite(a) && Number.isFinite(b) ? a >= k * b : undefined);

/** Case 1: anonymous GET of the small object at each connection count. */
export async function smallGet(ctx, servers, { bucket, key, conns }) {
  /** @type {CaseResult} */
  const c = { id: 1, title: 'Anonymous GET of a 10 KiB object (keep-alive)', columns: servers.map((s) => s.name), rows: [], notes: [] };
  for (const n of conns) {
    ctx.label(`1: small GET c${n}`);
    const res = await alternate(ctx, servers, `small GET c${n}`, (s) => wrk(s.objectUrl(bucket, key), { connections: n, seconds: ctx.secs }));
    noteErrors(ctx, c, res, `${n} connections`);
    const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, medianWrk(v)]));
    const pick = (f) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[f]]));
    const rps = pick('rps');
    const p99 = pick('p99');
    c.rows.push({ metric: `requests/s @ ${n} conns`, values: rps, better: 'higher', digits: 0, target: n === 32 ? target('>= 0.6x nginx', gt(rps.Offload, rps.nginx, 0.6)) : undefined });
    c.rows.push({ metric: `p50 ms @ ${n} conns`, values: pick('p50'), better: 'lower' });
    c.rows.push({ metric: `p99 ms @ ${n} conns`, values: p99, better: 'lower', target: n === 32 ? target('< 5 ms', Number.isFinite(p99.Offload) ? p99.Offload < 5 : undefined) : undefined });
  }
  return c;
}

/** Case 2: GB/s (10^9 bytes of payload per second) for the 1 MiB and the big object. */
export async function largeGet(ctx, servers, { bucket, objects }) {
  /** @type {CaseResult} */
  const c = { id: 2, title: 'GET throughput of large objects', columns: servers.map((s) => s.name), rows: [], notes: [] };
  for (const o of objects) {
    ctx.label(`2: GET ${o.label}`);
    const res = await alternate(ctx, servers, `GET ${o.label}`, (s) => wrk(s.objectUrl(bucket, o.key), { connections: o.conns, seconds: ctx.secs }));
    noteErrors(ctx, c, res, o.label);
    const gbps = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, (medianWrk(v).rps * o.size) / 1e9]));
    c.rows.push({ metric: `${o.label} GB/s @ ${o.conns} conns`, values: gbps, better: 'higher', target: target('>= 0.9x nginx', gt(gbps.Offload, gbps.nginx, 0.9)) });
  }
  c.notes.push('GB/s = requests/s x object size / 10^9 (payload only, from wrk\'s request rate).');
  return c;
}

/** Case 3: 64 KiB range GETs from the big object; each server is checked to answer 206 first. */
export async function rangeGet(ctx, servers, { bucket, key }) {
  const range = 'bytes=1048576-1114111';
  /** @type {CaseResult} */
  const c = { id: 3, title: `Range GET of 64 KiB from the big object (Range: ${range})`, columns: servers.map((s) => s.name), rows: [], notes: [] };
  ctx.label('3: range GET');
  const ok = [];
  for (const s of servers) {
    const r = await fetch(s.objectUrl(bucket, key), { headers: { Range: range } }).catch((e) => ({ status: 0, error: e }));
    const len = 'arrayBuffer' in r ? (await r.arrayBuffer()).byteLength : 0;
    if (r.status === 206 && len === 65536) ok.push(s);
    else {
      const text = `${s.name} answered ${r.status} with ${len} bytes to the range request; not measured`;
      c.notes.push(text);
      if (s.name === 'Offload') ctx.fail(text);
    }
  }
  const res = await alternate(ctx, ok, 'range GET', (s) => wrk(s.objectUrl(bucket, key), { connections: 32, seconds: ctx.secs, headers: [`Range: ${range}`] }));
  noteErrors(ctx, c, res, 'range');
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, medianWrk(v)]));
  const pick = (f) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[f]]));
  c.rows.push({ metric: 'requests/s @ 32 conns', values: pick('rps'), better: 'higher', digits: 0 });
  c.rows.push({ metric: 'p99 ms @ 32 conns', values: pick('p99'), better: 'lower' });
  return c;
}

/**
 * Case 4: signed PUTs at concurrency 32 for a fixed time, two ways: the SDK sending them from the
 * harness (client and server share the cores, the client's cost caps both), and the same
 * SDK-signed requests prepared ahead and replayed by wrk (the server's capacity).
 */
export async function signedPut(ctx, servers, { bucket, sizes, concurrency, scratch }) {
  /** @type {CaseResult} */
  const c = { id: 4, title: `Signed PUT with @aws-sdk/client-s3 at concurrency ${concurrency}`, columns: servers.map((s) => s.name), rows: [], notes: [] };
  for (const { label, bytes, factor, prepared } of sizes) {
    ctx.label(`4: PUT ${label}`);
    const body = Buffer.alloc(bytes, 0x61);
    const res = await alternate(ctx, servers, `PUT ${label}`, (s, round) =>
      putLoop(/** @type {any} */ (s.client), bucket, body, { concurrency, seconds: ctx.secs, prefix: `${label.replace(/\s/g, '')}-r${round}` }),
    );
    noteErrors(ctx, c, res, `PUT ${label}`);
    const ops = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v.map((r) => r.opsPerSec))]));
    const mbs = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v.map((r) => r.mbPerSec))]));
    c.rows.push({ metric: `${label} ops/s, SDK client`, values: ops, better: 'higher', digits: 0, target: target(`>= ${factor}x s3rver`, gt(ops.Offload, ops.s3rver, factor)) });
    c.rows.push({ metric: `${label} MB/s, SDK client`, values: mbs, better: 'higher' });

    ctx.label(`4: PUT ${label} replayed`);
    const replayed = await alternate(ctx, servers, `PUT ${label} replayed`, async (s, round) => {
      const requests = await signedPutRequests(/** @type {any} */ (s), bucket, body, prepared, `${label.replace(/\s/g, '')}-w${round}`);
      const r = await replay(s.url, requests, scratch, { connections: concurrency, seconds: ctx.secs });
      return { ...r, opsPerSec: r.rps, mbPerSec: (r.rps * bytes) / 1e6 };
    });
    noteErrors(ctx, c, replayed, `PUT ${label} replayed`);
    const m = Object.fromEntries(Object.entries(replayed).map(([k, v]) => [k, medianWrk(v)]));
    const rps = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.rps]));
    c.rows.push({ metric: `${label} ops/s, SDK-signed requests replayed by wrk`, values: rps, better: 'higher', digits: 0, target: target(`>= ${factor}x s3rver`, gt(rps.Offload, rps.s3rver, factor)) });
    c.rows.push({ metric: `${label} p99 ms, replayed`, values: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.p99])), better: 'lower' });
  }
  c.notes.push('SDK client: PutObjectCommand in a loop, 32 in flight, in the harness process (one Node thread) on the same 2 cores as the server; building and signing a request costs the SDK about 0.25 ms of CPU, which caps what either server can show. MB/s is 10^6 bytes of body per second.');
  c.notes.push('Replayed: the SDK builds and signs the PutObject requests (its whole middleware stack: SigV4 over the body\'s SHA-256, its default CRC32 checksum header) into memory instead of sending them, before the clock starts (distinct keys, then overwrites as wrk cycles through them); wrk sends them at 32 connections. Every Offload PUT is durable before its reply (fsynced commit); s3rver fsyncs nothing.');
  return c;
}

/** Case 5: ListObjectsV2 pages of 1000 keys; s3rver may get a smaller bucket. */
export async function listPages(ctx, servers, { bucket, counts, budgetS }) {
  /** @type {CaseResult} */
  const c = { id: 5, title: 'ListObjectsV2, pages of 1000 keys', columns: servers.map((s) => s.name), rows: [], notes: [] };
  ctx.label('5: list fill');
  /** @type {Record<string, number>} */ const fillRate = {};
  for (const s of servers) {
    const n = counts[s.name];
    try {
      const f = await fillBucket(s.client, bucket, n, 64, budgetS);
      fillRate[s.name] = f.perSec;
      ctx.log(`  fill ${s.name}: ${f.stored} keys in ${f.seconds.toFixed(1)} s (${fmt(f.perSec)} PUT/s at concurrency 64)`);
      if (f.stored < n) {
        c.notes.push(`${s.name}: the fill was stopped at its ${budgetS} s budget after ${f.stored.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} keys (${fmt(f.perSec)} PUT/s); pages were timed over ${f.stored.toLocaleString('en-US')} keys.`);
        counts[s.name] = f.stored;
      }
    } catch (err) {
      const text = `${s.name}: ${/** @type {Error} */ (err).message}`;
      c.notes.push(text);
      if (s.name === 'Offload') ctx.fail(text);
    }
  }
  ctx.label('5: list pages');
  const ready = servers.filter((s) => Number.isFinite(fillRate[s.name]));
  const res = await alternate(ctx, ready, 'list', async (s) => {
    try {
      const r = await pageThrough(s.client, bucket, s.name === 's3rver');
      return r.keys === counts[s.name] ? r : { ...r, error: `listed ${r.keys} keys, expected ${counts[s.name]}` };
    } catch (err) {
      return { medianMs: NaN, error: /** @type {Error} */ (err).message };
    }
  });
  noteErrors(ctx, c, res, 'list');
  const ms = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v.map((r) => r.medianMs))]));
  const label = servers.map((s) => `${s.name} ${counts[s.name].toLocaleString('en-US')}`).join(', ');
  c.rows.push({ metric: `median ms per page (keys: ${label})`, values: ms, better: 'lower', target: target('< 20 ms/page', Number.isFinite(ms.Offload) ? ms.Offload < 20 : undefined) });
  if (ready.some((s) => s.name === 's3rver')) c.notes.push('s3rver is paged with ListObjects (V1) and Marker, same page size: s3rver 3 on Node 20 answers 500 InternalError to every truncated ListObjectsV2 (its continuation token is DES-encrypted, which OpenSSL 3 refuses).');
  c.rows.push({ metric: 'bucket fill, PutObject/s at concurrency 64 (tiny bodies)', values: fillRate, better: 'higher', digits: 0 });
  return c;
}
