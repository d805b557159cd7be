// @ts-check
/** The cluster case's Markdown: one table per measurement, configurations as rows, ratios to the embedded node and to Ceph's gateway. */
import { fmt } from './util.js';

/** @typedef {{ rps: number, p50: number, p99: number }} Figures */

const ratio = (/** @type {number} */ a, /** @type {number | undefined} */ b) => (Number.isFinite(a) && b !== undefined && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

/**
 * A throughput table: configuration | rate | p50 | p99 | x embedded | x peer.
 * @param {string} title @param {string} unit @param {Array<{ name: string, kind: string }>} targets
 * @param {Record<string, Figures>} res @param {string} embedded @param {string | undefined} peer
 */
export function throughputTable(title, unit, targets, res, embedded, peer) {
  const lines = [`**${title}**`, '', `| configuration | ${unit} | p50 ms | p99 ms | x embedded | x Ceph RGW |`, '|---|---|---|---|---|---|'];
  for (const t of targets) {
    const r = res[t.name];
    if (!r) continue;
    lines.push(`| ${t.name} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${ratio(r.rps, res[embedded]?.rps)} | ${peer ? ratio(r.rps, res[peer]?.rps) : 'n/a'} |`);
  }
  return [...lines, ''];
}

/**
 * Latency at one connection (requests one after another): what each configuration adds per request to the embedded node.
 * @param {Array<{ what: string, res: Record<string, Figures> }>} measures @param {string[]} names @param {string} embedded
 */
export function latencyTable(measures, names, embedded) {
  const lines = ['**Latency at one connection (sequential requests), and what each configuration adds to the embedded node**', '', '| request | configuration | p50 ms | p99 ms | added p50 ms | added p99 ms |', '|---|---|---|---|---|---|'];
  for (const { what, res } of measures) {
    const base = res[embedded];
    for (const n of names) {
      const r = res[n];
      if (!r) continue;
      const added = (/** @type {'p50' | 'p99'} */ f) => (n === embedded || !base ? '' : fmt(r[f] - base[f], 2));
      lines.push(`| ${what} | ${n} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${added('p50')} | ${added('p99')} |`);
    }
  }
  return [...lines, ''];
}

/**
 * @param {Array<{ op: string, requestPath: number, background: number, blobStore: number }>} trips
 * @param {string} where which cluster the counts come from
 */
export function tripsTable(trips, where) {
  const lines = [
    `**Round trips per request from a PostgreSQL-metadata node** (${where}; counted by PostgreSQL's pg_stat_statements and the gateway's request counter, requests sent one at a time)`,
    '',
    '| request | PostgreSQL round trips (the request) | + nodes\' background writers in the window | blob store (RGW) requests |',
    '|---|---|---|---|',
  ];
  for (const t of trips) lines.push(`| ${t.op} | ${t.requestPath.toFixed(2)} | ${t.background.toFixed(2)} | ${Number.isFinite(t.blobStore) ? t.blobStore.toFixed(2) : 'n/a (folder: file I/O)'} |`);
  return [...lines, ''];
}
