// @ts-check
/**
 * `node bench/sse.js [--secs N] [--rounds N]`: encryption at rest and the limiter, measured and
 * printed (what `npm run bench -- --only sse` writes into the report; see bench/sse-case.js).
 */
import './env.js';
import { measureLimiter, measureSse, loadavg } from './sse-case.js';
import { cleanupAll, fmt } from './util.js';

const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const o = { secs: arg('--secs', 4), rounds: arg('--rounds', 3) };
const ratio = (r) => `${fmt(r.ratio, 2)}x (rounds: ${r.ratios.map((x) => fmt(x, 2)).join(', ')})`;

try {
  const lines = [`load average at the start: ${loadavg()}`, `SSE-S3 vs plain, 1 MiB objects (${o.rounds} rounds x ${o.secs} s, plain and SSE-S3 alternating; medians, ratio = median of per-round ratios):`];
  const { cached, uncached } = await measureSse(o);
  for (const [name, r] of [['hot cache on (default)', cached], ['hot cache off', uncached]]) {
    lines.push(`  ${name}: PUT plain ${fmt(r.put.plain)} MiB/s, SSE-S3 ${fmt(r.put.sealed)} MiB/s, ratio ${ratio(r.put)}; GET plain ${fmt(r.get.plain)} MiB/s, SSE-S3 ${fmt(r.get.sealed)} MiB/s, ratio ${ratio(r.get)}`);
    console.log(lines.at(-1));
  }
  lines.push('Limiter cost, anonymous GETs of a 1 KiB public object (wrk, 8 connections):');
  for (const r of await measureLimiter(o)) {
    lines.push(`  ${r.name}: ${fmt(r.rps, 0)} req/s`);
    console.log(lines.at(-1));
  }
  lines.push(`load average at the end: ${loadavg()}`);
  console.log('\n' + lines.join('\n'));
} finally {
  await cleanupAll();
}
