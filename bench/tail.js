// @ts-check
/**
 * Cases 8 and 9: tail latency. Case 8: the small anonymous GET at 256 connections, Offload and
 * nginx alternating in the same run, p99 side by side (the target: within 5x of nginx's). Case 9:
 * a mixed load of 48 connections at once, four wrk processes against Offload alone (small GETs,
 * 1 MiB GETs, signed 10 KiB and 1 MiB PUTs replayed), each reporting its own p99, and the
 * server's peak RSS during it.
 */
import { wrk, medianWrk } from './load.js';
import { replay, signedPutRequests } from './replay.js';
import { median, fmt } from './util.js';

const target = (text, met) => ({ text, met: met === undefined || Number.isNaN(met) ? null : met });

/** Case 8. @param {any} ctx @param {any[]} servers */
export async function tailAt256(ctx, servers, { bucket, key, conns = 256 }) {
  /** @type {import('./report.js').CaseResult} */
  const c = { id: 8, title: `Tail latency: anonymous GET of a 10 KiB object at ${conns} connections, same run`, columns: servers.map((s) => s.name), rows: [], notes: [] };
  ctx.label(`8: tail c${conns}`);
  /** @type {Record<string, any[]>} */ const res = {};
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const s of servers) {
      const r = await wrk(s.objectUrl(bucket, key), { connections: conns, seconds: ctx.secs });
      (res[s.name] ??= []).push(r);
      ctx.log(`  tail c${conns} round ${round} ${s.name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${r.error ? ` ERROR ${r.error}` : ''}`);
      if (r.error && s.name === 'Offload') ctx.fail(`tail c${conns}: ${r.error}`);
    }
  }
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, medianWrk(v)]));
  const pick = (f) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[f]]));
  const p99 = pick('p99');
  // Ratio per round (measured back to back), then the median: steadier than a ratio of medians.
  // Each Offload against the nginx with as many processes: 2 workers, and 1 when that peer runs.
  const peerOf = (name) => (name === 'Offload' && res['nginx, 1 worker'] ? 'nginx, 1 worker' : 'nginx');
  const ratiosOf = (name) => (res[name] ?? []).map((r, i) => r.p99 / (res[peerOf(name)]?.[i]?.p99 ?? NaN));
  const offloads = servers.filter((s) => !s.name.startsWith('nginx')).map((s) => s.name);
  const ratio = Object.fromEntries(offloads.map((name) => [name, median(ratiosOf(name))]));
  c.rows.push({ metric: `requests/s @ ${conns} conns`, values: pick('rps'), better: 'higher', digits: 0 });
  c.rows.push({ metric: `p50 ms @ ${conns} conns`, values: pick('p50'), better: 'lower' });
  c.rows.push({ metric: `p99 ms @ ${conns} conns`, values: p99, better: 'lower' });
  for (const [name, x] of Object.entries(ratio)) {
    c.rows.push({ metric: `p99 ${name} / p99 ${peerOf(name)} (median of per-round ratios)`, values: { [name]: x }, better: 'lower', digits: 2, target: target('<= 5x', Number.isFinite(x) ? x <= 5 : undefined) });
  }
  for (const name of offloads) c.notes.push(`p99 ${name} / ${peerOf(name)} per round: ${ratiosOf(name).map((x) => `${fmt(x, 2)}x`).join(', ')}.`);
  if (res.Offload && res.nginx) c.notes.push(`p99 Offload (one process) / nginx (2 workers) per round: ${(res.Offload ?? []).map((r, i) => `${fmt(r.p99 / (res.nginx?.[i]?.p99 ?? NaN), 2)}x`).join(', ')}.`);
  c.notes.push(`wrk: 2 threads, ${conns} connections, ${ctx.secs} s per round, servers in alternation, on the same 2 cores as the servers; nginx as the bench configures it runs 2 worker processes (reuseport), so Offload --workers 2 is its like; the one-process Offload is set against nginx with worker_processes 1.`);
  return c;
}

/**
 * Case 9. @param {any} ctx @param {any} offload
 * @param {{ bucket: string, smallKey: string, midKey: string, putBucket: string, scratch: string, sampler: any }} o
 */
export async function mixedLoad(ctx, offload, o) {
  const streams = [
    { name: 'GET 10 KiB', conns: 24, kind: 'get', key: o.smallKey },
    { name: 'GET 1 MiB', conns: 8, kind: 'get', key: o.midKey },
    { name: 'PUT 10 KiB', conns: 12, kind: 'put', bytes: 10 * 1024, prepared: 2000 },
    { name: 'PUT 1 MiB', conns: 4, kind: 'put', bytes: 1 << 20, prepared: 32 },
  ];
  const total = streams.reduce((a, s) => a + s.conns, 0);
  /** @type {import('./report.js').CaseResult} */
  const c = { id: 9, title: `Mixed load on Offload: ${total} connections at once (${streams.map((s) => `${s.name} x${s.conns}`).join(', ')})`, columns: ['Offload'], rows: [], notes: [] };
  /** @type {Record<string, any[]>} */ const res = {};
  const peaks = [];
  for (let round = 1; round <= ctx.rounds; round++) {
    // Signed ahead (SigV4 accepts them for 15 minutes), so the SDK's CPU is not in the clock.
    const prepared = await Promise.all(streams.map((s) => (s.kind === 'put' ? signedPutRequests(offload, o.putBucket, Buffer.alloc(s.bytes ?? 0, 0x6d), s.prepared ?? 1, `mixed-${s.bytes}-r${round}`) : undefined)));
    const label = `9: mixed load r${round}`;
    ctx.label(label);
    const runs = streams.map((s, i) =>
      s.kind === 'get'
        ? wrk(offload.objectUrl(o.bucket, s.key), { connections: s.conns, seconds: ctx.secs, threads: 1 })
        : replay(offload.url, /** @type {Buffer[]} */ (prepared[i]), o.scratch, { connections: s.conns, seconds: ctx.secs, threads: 1 }),
    );
    const results = await Promise.all(runs);
    peaks.push(o.sampler.peak().byLabel[label] ?? 0);
    results.forEach((r, i) => {
      const s = streams[i];
      (res[s.name] ??= []).push(r);
      ctx.log(`  mixed round ${round} ${s.name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${r.error ? ` ERROR ${r.error}` : ''}`);
      if (r.error) ctx.fail(`mixed load ${s.name}: ${r.error}`);
    });
  }
  for (const s of streams) {
    const m = medianWrk(res[s.name] ?? []);
    c.rows.push({ metric: `${s.name}: requests/s`, values: { Offload: m.rps }, better: 'higher', digits: 0 });
    c.rows.push({ metric: `${s.name}: p99 ms`, values: { Offload: m.p99 }, better: 'lower' });
  }
  const peakMiB = Math.max(...peaks) / (1 << 20);
  c.rows.push({ metric: 'peak server RSS during the mixed load, MiB', values: { Offload: peakMiB }, better: 'lower', target: target('< 200 MiB', peakMiB > 0 ? peakMiB < 200 : undefined) });
  c.notes.push(`Four wrk processes (1 thread each) run at once for ${ctx.secs} s per round, on the same 2 cores as the server; PUTs are SDK-signed requests prepared before the clock starts (bench/replay.js), distinct keys then overwrites. RSS is the server's process tree, sampled every 200 ms; per round: ${peaks.map((p) => fmt(p / (1 << 20), 0)).join(', ')} MiB.`);
  return c;
}
