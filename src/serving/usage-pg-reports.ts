/**
 * The stats report and the metrics exposition read from PostgreSQL (`--meta`): the usage tables
 * every node adds to, and what is stored now from the Store's own tables in the same database
 * (objects), never from a node's local SQLite. Sums are cast to float8 so that they arrive as
 * numbers (exact below 2^53), not as the strings pg gives for bigint and numeric.
 */
import type { PgDb } from '../storage/postgres/db.js';
import type { MetricsSource, StatsSource } from './usage-backend.js';
import { renderMetrics } from './metrics.js';
import { dayOf, originCounters, reportPeriod, zeroed, type FileUsage, type StatsQuery, type StatsReport, type Totals } from './stats-report.js';

const SUMS = `SUM(requests)::float8 AS "requests", SUM(bytes_out)::float8 AS "bytesOut", SUM(bytes_in)::float8 AS "bytesIn",
  SUM(s2xx)::float8 AS "s2xx", SUM(s3xx)::float8 AS "s3xx", SUM(s4xx)::float8 AS "s4xx", SUM(s5xx)::float8 AS "s5xx",
  SUM(anonymous)::float8 AS "anonymous", SUM(signed)::float8 AS "signed", SUM(puts)::float8 AS "puts", SUM(gets)::float8 AS "gets"`;
// $1 bucket, $2 first hour, $3 prefix ('' for all), $4 top.
const WHERE = `bucket = $1 AND hour >= $2 AND ($3 = '' OR starts_with(key, $3))`;
const PREFIX = `bucket = $1 AND ($2 = '' OR starts_with(key, $2))`;

export class PgStatsQueries implements StatsSource {
  constructor(private readonly db: PgDb) {}

  async report(q: StatsQuery): Promise<StatsReport> {
    const { hour, header } = reportPeriod(q);
    const p = [q.bucket, hour, q.prefix, q.top];
    const read = <R extends object>(text: string, values: unknown[]) => this.db.read<R & Record<string, unknown>>(text, values).then((r) => r.rows as R[]);
    const [totals, byRequests, byBytes, perDay, referrers, stored, origin] = await Promise.all([
      read<Totals>(`SELECT ${SUMS} FROM usage_hourly WHERE ${WHERE}`, p.slice(0, 3)),
      read<FileUsage>(`SELECT key, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY key ORDER BY "requests" DESC, key LIMIT $4`, p),
      read<FileUsage>(`SELECT key, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY key ORDER BY "bytesOut" DESC, key LIMIT $4`, p),
      read<Totals & { dayNumber: number }>(`SELECT (hour / 24)::float8 AS "dayNumber", ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY hour / 24 ORDER BY hour / 24`, p.slice(0, 3)),
      read<{ host: string; requests: number }>(`SELECT host, SUM(requests)::float8 AS requests FROM usage_referrers WHERE ${WHERE} GROUP BY host ORDER BY 2 DESC, host LIMIT $4`, p),
      read<{ objects: number; bytes: number; versions: number; noncurrentBytes: number; markers: number }>(
        `SELECT count(*) FILTER (WHERE is_current AND NOT ${MARKER})::float8 AS objects,
           COALESCE(SUM(${SIZE}) FILTER (WHERE is_current), 0)::float8 AS bytes,
           count(*) FILTER (WHERE NOT is_current AND NOT ${MARKER})::float8 AS versions,
           COALESCE(SUM(${SIZE}) FILTER (WHERE NOT is_current), 0)::float8 AS "noncurrentBytes",
           count(*) FILTER (WHERE ${MARKER})::float8 AS markers
         FROM objects WHERE ${PREFIX}`,
        [q.bucket, q.prefix],
      ),
      read<{ name: string; value: number }>(`SELECT name, value::float8 AS value FROM metrics_totals WHERE starts_with(name, 'origin_') AND name LIKE $1`, [`%:${likeEscape(q.bucket)}`]),
    ]);
    const s = stored[0]!;
    return {
      ...header,
      totals: zeroed(totals[0]!),
      topByRequests: byRequests,
      topByBytes: byBytes,
      perDay: perDay.map(dayOf),
      referrers,
      stored: { objects: s.objects, bytes: s.bytes, noncurrentVersions: s.versions, noncurrentBytes: s.noncurrentBytes, deleteMarkers: s.markers },
      ...originCounters(q.bucket, origin),
    };
  }
}

const SIZE = `(meta->>'size')::bigint`;
const MARKER = `COALESCE((meta->>'deleteMarker')::boolean, false)`;

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class PgMetricsQueries implements MetricsSource {
  constructor(private readonly db: PgDb) {}

  async render(): Promise<string> {
    const read = <R extends object>(text: string) => this.db.read<R & Record<string, unknown>>(text).then((r) => r.rows as R[]);
    const [requests, byOp, latency, totals, stored] = await Promise.all([
      read<{ op: string; status: number; requests: number }>('SELECT op, status, requests::float8 AS requests FROM metrics_requests ORDER BY op COLLATE "C", status'),
      read<{ op: string; requests: number; bytesIn: number; bytesOut: number; seconds: number }>(
        `SELECT op, SUM(requests)::float8 AS "requests", SUM(bytes_in)::float8 AS "bytesIn", SUM(bytes_out)::float8 AS "bytesOut", SUM(seconds)::float8 AS "seconds"
         FROM metrics_requests GROUP BY op ORDER BY op COLLATE "C"`,
      ),
      read<{ op: string; bucket: number; count: number }>('SELECT op, bucket, count::float8 AS count FROM metrics_latency ORDER BY op COLLATE "C", bucket'),
      read<{ name: string; value: number }>('SELECT name, value::float8 AS value FROM metrics_totals'),
      read<{ bucket: string; objects: number; bytes: number | null }>(
        `SELECT b.name AS bucket, count(o.key)::float8 AS objects, SUM((o.meta->>'size')::bigint)::float8 AS bytes
         FROM buckets b LEFT JOIN objects o ON o.bucket = b.name AND o.is_current AND NOT COALESCE((o.meta->>'deleteMarker')::boolean, false)
         GROUP BY b.name ORDER BY b.name`,
      ),
    ]);
    return renderMetrics({ requests, byOp, latency, totals, stored });
  }
}
