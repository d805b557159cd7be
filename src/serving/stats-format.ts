/** The human-readable `offload stats` report: top files, totals per day, monthly cost and its formula. */
import { formatBytes } from '../format.js';
import type { CostEstimate } from './cost.js';
import { money } from './cost.js';
import type { FileUsage, StatsReport } from './stats-report.js';

export function formatStatsReport(report: StatsReport, cost: CostEstimate): string {
  const lines: string[] = [];
  const where = `s3://${report.bucket}/${report.prefix}`;
  lines.push(`Usage of ${where} since ${report.from} (${report.since})`);
  const t = report.totals;
  lines.push(
    `${t.requests} requests (${t.s2xx} 2xx, ${t.s3xx} 3xx, ${t.s4xx} 4xx, ${t.s5xx} 5xx; ${t.anonymous} anonymous, ${t.signed} signed), ` +
      `${formatBytes(t.bytesOut)} sent, ${formatBytes(t.bytesIn)} received`,
  );
  lines.push(`Stored now: ${report.stored.objects} objects, ${formatBytes(report.stored.bytes)}`);
  const { noncurrentVersions, noncurrentBytes, deleteMarkers } = report.stored;
  // Old versions cost storage like current objects: shown apart, so a lifecycle rule can be judged.
  if (noncurrentVersions || deleteMarkers) lines.push(`Noncurrent versions: ${noncurrentVersions}, ${formatBytes(noncurrentBytes)}${deleteMarkers ? ` (and ${deleteMarkers} delete markers)` : ''}`);
  const o = report.origin;
  if (o) lines.push(`Origin (all time): ${o.hits ?? 0} hits, ${o.misses ?? 0} misses, ${o.revalidated ?? 0} revalidated, ${o.stale ?? 0} stale; ${o.origin_requests ?? 0} origin requests, ${formatBytes(o.origin_bytes ?? 0)} from the origin, ${o.fills ?? 0} filled, ${o.evictions ?? 0} evicted`);
  lines.push('', 'Most requested:');
  lines.push(...table(report.topByRequests));
  lines.push('', 'Most bandwidth:');
  lines.push(...table(report.topByBytes));
  lines.push('', 'Per day:');
  if (report.perDay.length === 0) lines.push('  (no requests)');
  for (const d of report.perDay) lines.push(`  ${d.day}  ${String(d.requests).padStart(9)} requests  ${formatBytes(d.bytesOut).padStart(10)} sent  ${String(d.s4xx + d.s5xx).padStart(6)} errors`);
  if (report.referrers.length > 0) {
    lines.push('', 'Top referrers:');
    for (const r of report.referrers) lines.push(`  ${String(r.requests).padStart(9)}  ${r.host}`);
  }
  lines.push('', `Estimated monthly cost: $${money(cost.total)}`);
  for (const f of cost.formula) lines.push(`  ${f}`);
  return lines.join('\n') + '\n';
}

function table(files: FileUsage[]): string[] {
  if (files.length === 0) return ['  (no requests)'];
  return files.map((f) => `  ${String(f.requests).padStart(9)} req  ${formatBytes(f.bytesOut).padStart(10)}  ${f.key}`);
}

