/**
 * `GET /_offload/metrics`: Prometheus text exposition format (0.0.4). Request counters, bytes
 * and the latency histogram come from the database, where every worker flushes its counts, so
 * any worker answers with the totals of all of them (each worker's last ~2 s excepted).
 */
import type { Db } from '../storage/schema.js';
import { LATENCY_BOUNDS } from './usage-pending.js';
import { repeatedAnswersServed } from '../s3/repeated-answer-cache.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class MetricsQueries {
  private readonly sql;

  constructor(db: Db) {
    this.sql = {
      requests: db.prepare<[], { op: string; status: number; requests: number }>('SELECT op, status, requests FROM metrics_requests ORDER BY op, status'),
      byOp: db.prepare<[], { op: string; requests: number; bytesIn: number; bytesOut: number; seconds: number }>(
        'SELECT op, SUM(requests) AS requests, SUM(bytes_in) AS bytesIn, SUM(bytes_out) AS bytesOut, SUM(seconds) AS seconds FROM metrics_requests GROUP BY op ORDER BY op',
      ),
      latency: db.prepare<[], { op: string; bucket: number; count: number }>('SELECT op, bucket, count FROM metrics_latency ORDER BY op, bucket'),
      totals: db.prepare<[], { name: string; value: number }>('SELECT name, value FROM metrics_totals'),
      stored: db.prepare<[], { bucket: string; objects: number; bytes: number | null }>(
        `SELECT b.name AS bucket, COUNT(o.key) AS objects, SUM(json_extract(o.meta, '$.size')) AS bytes
         FROM buckets b LEFT JOIN objects o ON o.bucket = b.name GROUP BY b.name ORDER BY b.name`,
      ),
    };
  }

  render(): string {
    return renderMetrics({
      requests: this.sql.requests.all(),
      byOp: this.sql.byOp.all(),
      latency: this.sql.latency.all(),
      totals: this.sql.totals.all(),
      stored: this.sql.stored.all(),
    });
  }
}

/** What the exposition is made of, as rows of the usage tables (SQLite or PostgreSQL). */
export interface MetricsRows {
  requests: { op: string; status: number; requests: number }[];
  byOp: { op: string; requests: number; bytesIn: number; bytesOut: number; seconds: number }[];
  latency: { op: string; bucket: number; count: number }[];
  totals: { name: string; value: number }[];
  stored: { bucket: string; objects: number; bytes: number | null }[];
}

export function renderMetrics(rows: MetricsRows): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  family('offload_requests_total', 'counter', 'S3 and website requests answered, by operation and HTTP status.');
  for (const r of rows.requests) out.push(`offload_requests_total{op="${esc(r.op)}",status="${r.status}"} ${r.requests}`);

  const byOp = rows.byOp;
  family('offload_received_bytes_total', 'counter', 'Request body bytes received, by operation.');
  for (const r of byOp) out.push(`offload_received_bytes_total{op="${esc(r.op)}"} ${r.bytesIn}`);
  family('offload_sent_bytes_total', 'counter', 'Response body bytes sent, by operation.');
  for (const r of byOp) out.push(`offload_sent_bytes_total{op="${esc(r.op)}"} ${r.bytesOut}`);

  family('offload_request_duration_seconds', 'histogram', 'Time from request start to response end, by operation.');
  const buckets = new Map<string, number[]>();
  for (const l of rows.latency) {
    let counts = buckets.get(l.op);
    if (counts === undefined) buckets.set(l.op, (counts = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0)));
    if (l.bucket >= 0 && l.bucket < counts.length) counts[l.bucket] = l.count;
  }
  for (const r of byOp) {
    const counts = buckets.get(r.op) ?? new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
    let cumulative = 0;
    counts.forEach((n, i) => {
      cumulative += n;
      const le = i < LATENCY_BOUNDS.length ? String(LATENCY_BOUNDS[i]) : '+Inf';
      out.push(`offload_request_duration_seconds_bucket{op="${esc(r.op)}",le="${le}"} ${cumulative}`);
    });
    out.push(`offload_request_duration_seconds_sum{op="${esc(r.op)}"} ${r.seconds}`);
    out.push(`offload_request_duration_seconds_count{op="${esc(r.op)}"} ${cumulative}`);
  }

  const totals = new Map(rows.totals.map((t) => [t.name, t.value]));
  const hits = totals.get('cache_hits') ?? 0;
  const misses = totals.get('cache_misses') ?? 0;
  family('offload_cache_hits_total', 'counter', 'Reads of small objects answered from the in-memory hot cache.');
  out.push(`offload_cache_hits_total ${hits}`);
  family('offload_cache_misses_total', 'counter', 'Reads of small objects that missed the in-memory hot cache.');
  out.push(`offload_cache_misses_total ${misses}`);
  family('offload_cache_hit_ratio', 'gauge', 'Hot-cache hits / (hits + misses) since the data folder was created (0 before any lookup).');
  out.push(`offload_cache_hit_ratio ${hits + misses === 0 ? 0 : hits / (hits + misses)}`);
  family('offload_repeated_answers_total', 'counter', 'Repeated anonymous GETs answered from a kept response head (the fast path), by this server process since it started.');
  out.push(`offload_repeated_answers_total ${repeatedAnswersServed()}`);

  renderOriginCounters(totals, family, out);

  const stored = rows.stored;
  family('offload_bucket_objects', 'gauge', 'Objects stored, by bucket.');
  for (const s of stored) out.push(`offload_bucket_objects{bucket="${esc(s.bucket)}"} ${s.objects}`);
  family('offload_bucket_bytes', 'gauge', 'Bytes stored (sum of object sizes), by bucket.');
  for (const s of stored) out.push(`offload_bucket_bytes{bucket="${esc(s.bucket)}"} ${s.bytes ?? 0}`);
  return out.join('\n') + '\n';
}

const ORIGIN_FAMILIES: [string, string][] = [
  ['hits', 'Answers of origin buckets from what they hold (X-Cache: HIT), by bucket.'],
  ['misses', 'Answers of origin buckets fetched from the origin (X-Cache: MISS), by bucket.'],
  ['revalidated', 'Stale filled objects the origin confirmed with a 304 (X-Cache: REVALIDATED), by bucket.'],
  ['stale', 'Stale filled objects answered while revalidating or while the origin failed (X-Cache: STALE), by bucket.'],
  ['origin_requests', 'Requests made to origins, by bucket.'],
  ['origin_bytes', 'Body bytes received from origins, by bucket.'],
  ['fills', 'Objects stored from origins, by bucket.'],
  ['evictions', 'Filled objects evicted under a bucket capacity, by bucket.'],
];

/** Origin buckets' counters (metrics_totals rows named origin_<counter>:<bucket>). */
function renderOriginCounters(totals: Map<string, number>, family: (name: string, type: string, help: string) => void, out: string[]): void {
  for (const [name, help] of ORIGIN_FAMILIES) {
    const metric = name.startsWith('origin_') ? `offload_${name}_total` : `offload_origin_${name}_total`;
    family(metric, 'counter', help);
    for (const [id, value] of totals) {
      if (id.startsWith(`origin_${name}:`)) out.push(`${metric}{bucket="${esc(id.slice(`origin_${name}:`.length))}"} ${value}`);
    }
  }
}

/** Label value escaping: backslash, double quote and line feed. */
function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
