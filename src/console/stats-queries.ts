/**
 * The usage page's numbers, from the hourly usage tables serving/usage.ts keeps (the same ones
 * `offload stats` and /_offload/stats report): a time series per hour or day, top files,
 * top referrers and what a bucket stores.
 */
import type { Db } from '../storage/schema.js';

export interface SeriesPoint {
  t: string;
  requests: number;
  bytesOut: number;
  bytesIn: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
  gets: number;
  puts: number;
}

export interface StatsRange {
  /** Undefined: every bucket (root only). */
  bucket?: string;
  key?: string;
  /** Hours since the epoch, inclusive. */
  fromHour: number;
  toHour: number;
  period: 'hour' | 'day';
  top?: number;
}

const SUMS = `SUM(requests) AS requests, SUM(bytes_out) AS bytesOut, SUM(bytes_in) AS bytesIn, SUM(s2xx) AS s2xx,
  SUM(s4xx) AS s4xx, SUM(s5xx) AS s5xx, SUM(gets) AS gets, SUM(puts) AS puts`;
const WHERE = `(@bucket IS NULL OR bucket = @bucket) AND (@key IS NULL OR key = @key) AND hour >= @fromHour AND hour <= @toHour`;
type Maybe<T> = T | Promise<T>;

export type TotalsPoint = Omit<SeriesPoint, 't'>;
export interface TopLists {
  topByRequests: { key: string; requests: number; bytes: number }[];
  topByBytes: { key: string; requests: number; bytes: number }[];
  topReferrers: { referrer: string; requests: number }[];
}

/** The usage page's readers: SQLite here, PostgreSQL (shared by nodes) in stats-queries-pg.ts. */
export interface ConsoleStatsSource {
  series(r: StatsRange): Maybe<SeriesPoint[]>;
  totals(r: StatsRange): Maybe<TotalsPoint>;
  top(r: StatsRange): Maybe<TopLists>;
  stored(bucket: string | undefined): Maybe<{ objects: number; bytes: number }>;
}

type Params = { bucket: string | null; key: string | null; fromHour: number; toHour: number; span: number; top: number };
export type SlotRow = TotalsPoint & { slot: number };
type Row = SlotRow;

/** One point per hour or day of the range, zeros included, so a plot's x axis is even. */
export function fillSeries(r: StatsRange, found: SlotRow[]): SeriesPoint[] {
  const span = r.period === 'day' ? 24 : 1;
  const rows = new Map(found.map((row) => [row.slot, row]));
  const out: SeriesPoint[] = [];
  for (let slot = Math.floor(r.fromHour / span); slot <= Math.floor(r.toHour / span); slot++) {
    const { slot: _slot, ...counts } = rows.get(slot) ?? ({ slot, requests: 0, bytesOut: 0, bytesIn: 0, s2xx: 0, s4xx: 0, s5xx: 0, gets: 0, puts: 0 } as Row);
    out.push({ t: new Date(slot * span * 3_600_000).toISOString(), ...counts });
  }
  return out;
}

export function zeroTotals(t: Partial<Record<keyof TotalsPoint, number | null>>): TotalsPoint {
  return { requests: t.requests ?? 0, bytesOut: t.bytesOut ?? 0, bytesIn: t.bytesIn ?? 0, s2xx: t.s2xx ?? 0, s4xx: t.s4xx ?? 0, s5xx: t.s5xx ?? 0, gets: t.gets ?? 0, puts: t.puts ?? 0 };
}

export class ConsoleStatsQueries implements ConsoleStatsSource {
  private readonly sql;

  constructor(db: Db) {
    this.sql = {
      series: db.prepare<Params, Row>(`SELECT hour / @span AS slot, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY slot ORDER BY slot`),
      totals: db.prepare<Params, Omit<SeriesPoint, 't'>>(`SELECT ${SUMS} FROM usage_hourly WHERE ${WHERE}`),
      byRequests: db.prepare<Params, { key: string; requests: number; bytes: number }>(
        `SELECT key, SUM(requests) AS requests, SUM(bytes_out) AS bytes FROM usage_hourly WHERE ${WHERE} AND key != '' GROUP BY key ORDER BY requests DESC, key LIMIT @top`),
      byBytes: db.prepare<Params, { key: string; requests: number; bytes: number }>(
        `SELECT key, SUM(requests) AS requests, SUM(bytes_out) AS bytes FROM usage_hourly WHERE ${WHERE} AND key != '' GROUP BY key ORDER BY bytes DESC, key LIMIT @top`),
      referrers: db.prepare<Params, { referrer: string; requests: number }>(
        `SELECT host AS referrer, SUM(requests) AS requests FROM usage_referrers WHERE ${WHERE} GROUP BY host ORDER BY requests DESC, host LIMIT @top`),
      stored: db.prepare<{ bucket: string | null }, { objects: number; bytes: number | null }>(
        `SELECT COUNT(*) AS objects, SUM(json_extract(meta, '$.size')) AS bytes FROM objects WHERE (@bucket IS NULL OR bucket = @bucket)`),
    };
  }

  private params(r: StatsRange): Params {
    return { bucket: r.bucket ?? null, key: r.key ?? null, fromHour: r.fromHour, toHour: r.toHour, span: r.period === 'day' ? 24 : 1, top: r.top ?? 10 };
  }

  series(r: StatsRange): SeriesPoint[] {
    return fillSeries(r, this.sql.series.all(this.params(r)));
  }

  totals(r: StatsRange): TotalsPoint {
    return zeroTotals(this.sql.totals.get(this.params(r))!);
  }

  top(r: StatsRange): TopLists {
    const p = this.params(r);
    return { topByRequests: this.sql.byRequests.all(p), topByBytes: this.sql.byBytes.all(p), topReferrers: this.sql.referrers.all(p) };
  }

  stored(bucket: string | undefined): { objects: number; bytes: number } {
    const row = this.sql.stored.get({ bucket: bucket ?? null })!;
    return { objects: row.objects, bytes: row.bytes ?? 0 };
  }
}
