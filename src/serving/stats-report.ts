/**
 * `GET /_offload/stats/<bucket>?prefix=&since=7d&top=20`: a bucket's usage from the hourly
 * tables (top files by requests and by bytes, totals per day, top referrer hosts) and what it
 * stores now (objects and bytes, for storage cost).
 */
import type { Counters } from './usage-pending.js';
import type { Db } from '../storage/schema.js';

export interface StatsQuery {
  bucket: string;
  prefix: string;
  /** As given: `7d`, `24h`, `90m`... */
  since: string;
  top: number;
  /** Epoch ms (tests pin it). */
  now?: number;
}

export type Totals = Counters;

export interface FileUsage extends Totals {
  key: string;
}

export interface StatsReport {
  bucket: string;
  prefix: string;
  since: string;
  /** Start of the period: the first counted hour, ISO 8601. */
  from: string;
  /** Length of the period in days (7d -> 7, 36h -> 1.5). */
  days: number;
  totals: Totals;
  topByRequests: FileUsage[];
  topByBytes: FileUsage[];
  perDay: (Totals & { day: string })[];
  referrers: { host: string; requests: number }[];
  /** Current objects, and apart what noncurrent versions and delete markers hold (they cost storage too). */
  stored: { objects: number; bytes: number; noncurrentVersions: number; noncurrentBytes: number; deleteMarkers: number };
  /** An origin bucket's counters since the data folder was created (hits, misses, origin_bytes...); absent for other buckets. */
  origin?: Record<string, number>;
}

/** `7d` / `12h` / `30m` -> milliseconds; undefined when malformed. */
export function parseSince(since: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([dhm])$/.exec(since.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  const ms = n * unit;
  return ms > 0 && ms <= 3660 * 86_400_000 ? ms : undefined;
}

const SUMS = `SUM(requests) AS requests, SUM(bytes_out) AS bytesOut, SUM(bytes_in) AS bytesIn, SUM(s2xx) AS s2xx, SUM(s3xx) AS s3xx,
  SUM(s4xx) AS s4xx, SUM(s5xx) AS s5xx, SUM(anonymous) AS anonymous, SUM(signed) AS signed, SUM(puts) AS puts, SUM(gets) AS gets`;
const WHERE = `bucket = @bucket AND hour >= @hour AND (@prefix = '' OR substr(key, 1, length(@prefix)) = @prefix)`;

type Params = { bucket: string; hour: number; prefix: string; top: number };

/** A report argument that cannot be read (the admin API answers it as InvalidArgument). */
export class StatsArgumentError extends Error {}

export class StatsQueries {
  private readonly sql;

  constructor(db: Db) {
    this.sql = {
      totals: db.prepare<Params, Totals>(`SELECT ${SUMS} FROM usage_hourly WHERE ${WHERE}`),
      byRequests: db.prepare<Params, FileUsage>(`SELECT key, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY key ORDER BY requests DESC, key LIMIT @top`),
      byBytes: db.prepare<Params, FileUsage>(`SELECT key, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY key ORDER BY bytesOut DESC, key LIMIT @top`),
      perDay: db.prepare<Params, Totals & { dayNumber: number }>(`SELECT hour / 24 AS dayNumber, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY dayNumber ORDER BY dayNumber`),
      referrers: db.prepare<Params, { host: string; requests: number }>(
        `SELECT host, SUM(requests) AS requests FROM usage_referrers WHERE ${WHERE} GROUP BY host ORDER BY requests DESC, host LIMIT @top`,
      ),
      stored: db.prepare<{ bucket: string; prefix: string }, { objects: number; bytes: number | null }>(
        `SELECT COUNT(*) AS objects, SUM(json_extract(meta, '$.size')) AS bytes FROM objects
         WHERE bucket = @bucket AND (@prefix = '' OR substr(key, 1, length(@prefix)) = @prefix)`,
      ),
      origin: db.prepare<{ suffix: string }, { name: string; value: number }>(`SELECT name, value FROM metrics_totals WHERE substr(name, 1, 7) = 'origin_' AND substr(name, -length(@suffix)) = @suffix`),
      noncurrent: db.prepare<{ bucket: string; prefix: string }, { versions: number; markers: number; bytes: number }>(
        `SELECT COALESCE(SUM(marker = 0), 0) AS versions, COALESCE(SUM(marker), 0) AS markers, COALESCE(SUM(size), 0) AS bytes FROM versions
         WHERE bucket = @bucket AND (@prefix = '' OR substr(key, 1, length(@prefix)) = @prefix)`,
      ),
    };
  }

  report(q: StatsQuery): StatsReport {
    const { hour, header } = reportPeriod(q);
    const p: Params = { bucket: q.bucket, hour, prefix: q.prefix, top: q.top };
    const stored = this.sql.stored.get({ bucket: q.bucket, prefix: q.prefix })!;
    const old = this.sql.noncurrent.get({ bucket: q.bucket, prefix: q.prefix })!;
    return {
      ...header,
      totals: zeroed(this.sql.totals.get(p)!),
      topByRequests: this.sql.byRequests.all(p),
      topByBytes: this.sql.byBytes.all(p),
      perDay: this.sql.perDay.all(p).map(dayOf),
      referrers: this.sql.referrers.all(p),
      stored: { objects: stored.objects, bytes: stored.bytes ?? 0, noncurrentVersions: old.versions, noncurrentBytes: old.bytes, deleteMarkers: old.markers },
      ...originCounters(q.bucket, this.sql.origin.all({ suffix: `:${q.bucket}` })),
    };
  }
}

/** The period a report covers: its first counted hour, and the report's fields that say so. */
export function reportPeriod(q: StatsQuery): { hour: number; header: Pick<StatsReport, 'bucket' | 'prefix' | 'since' | 'from' | 'days'> } {
  const periodMs = parseSince(q.since);
  if (periodMs === undefined) throw new StatsArgumentError(`since must look like 7d, 24h or 30m, got "${q.since}"`);
  const now = q.now ?? Date.now();
  const hour = Math.floor((now - periodMs) / 3_600_000);
  return { hour, header: { bucket: q.bucket, prefix: q.prefix, since: q.since, from: new Date(hour * 3_600_000).toISOString(), days: periodMs / 86_400_000 } };
}

export function dayOf({ dayNumber, ...t }: Totals & { dayNumber: number }): Totals & { day: string } {
  return { day: new Date(dayNumber * 86_400_000).toISOString().slice(0, 10), ...t };
}

/** An origin bucket's counters from the metrics_totals rows named origin_<counter>:<bucket> (those ending in `:<bucket>`). */
export function originCounters(bucket: string, candidates: { name: string; value: number }[]): { origin?: Record<string, number> } {
  const suffix = `:${bucket}`;
  const rows = candidates.filter((r) => r.name.startsWith('origin_') && r.name.endsWith(suffix) && r.name.indexOf(':') === r.name.length - suffix.length);
  if (rows.length === 0) return {};
  return { origin: Object.fromEntries(rows.map((r) => [r.name.slice('origin_'.length, -suffix.length), r.value])) };
}

/** SUM over no rows is NULL. */
export function zeroed(t: Totals): Totals {
  const out = { ...t };
  for (const k of Object.keys(out) as (keyof Totals)[]) out[k] ??= 0;
  return out;
}
