/**
 * The usage page's numbers from PostgreSQL (`--meta`): the usage tables every node adds to, and
 * what a bucket stores now from the Store's own objects table in the same database.
 */
import type { PgDb } from '../storage/postgres/db.js';
import { fillSeries, zeroTotals, type ConsoleStatsSource, type SeriesPoint, type SlotRow, type StatsRange, type TopLists, type TotalsPoint } from './stats-queries.js';

const SUMS = `SUM(requests)::float8 AS "requests", SUM(bytes_out)::float8 AS "bytesOut", SUM(bytes_in)::float8 AS "bytesIn", SUM(s2xx)::float8 AS "s2xx",
  SUM(s4xx)::float8 AS "s4xx", SUM(s5xx)::float8 AS "s5xx", SUM(gets)::float8 AS "gets", SUM(puts)::float8 AS "puts"`;
// $1 bucket (NULL: all), $2 key (NULL: all), $3 first hour, $4 last hour.
const WHERE = `($1::text IS NULL OR bucket = $1) AND ($2::text IS NULL OR key = $2) AND hour >= $3 AND hour <= $4`;

export class PgConsoleStatsQueries implements ConsoleStatsSource {
  constructor(private readonly db: PgDb) {}

  private params(r: StatsRange): unknown[] {
    return [r.bucket ?? null, r.key ?? null, r.fromHour, r.toHour];
  }

  private async rows<R>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.db.read(text, values)).rows as R[];
  }

  async series(r: StatsRange): Promise<SeriesPoint[]> {
    const span = r.period === 'day' ? 24 : 1;
    const found = await this.rows<SlotRow>(`SELECT (hour / ${span})::float8 AS slot, ${SUMS} FROM usage_hourly WHERE ${WHERE} GROUP BY 1 ORDER BY 1`, this.params(r));
    return fillSeries(r, found);
  }

  async totals(r: StatsRange): Promise<TotalsPoint> {
    return zeroTotals((await this.rows<TotalsPoint>(`SELECT ${SUMS} FROM usage_hourly WHERE ${WHERE}`, this.params(r)))[0]!);
  }

  async top(r: StatsRange): Promise<TopLists> {
    const p = [...this.params(r), r.top ?? 10];
    const files = (order: string) =>
      this.rows<{ key: string; requests: number; bytes: number }>(
        `SELECT key, SUM(requests)::float8 AS requests, SUM(bytes_out)::float8 AS bytes FROM usage_hourly WHERE ${WHERE} AND key <> '' GROUP BY key ORDER BY ${order} DESC, key LIMIT $5`,
        p,
      );
    const [topByRequests, topByBytes, topReferrers] = await Promise.all([
      files('requests'),
      files('bytes'),
      this.rows<{ referrer: string; requests: number }>(
        `SELECT host AS referrer, SUM(requests)::float8 AS requests FROM usage_referrers WHERE ${WHERE} GROUP BY host ORDER BY 2 DESC, host LIMIT $5`,
        p,
      ),
    ]);
    return { topByRequests, topByBytes, topReferrers };
  }

  async stored(bucket: string | undefined): Promise<{ objects: number; bytes: number }> {
    const [row] = await this.rows<{ objects: number; bytes: number }>(
      `SELECT count(*)::float8 AS objects, COALESCE(SUM((meta->>'size')::bigint), 0)::float8 AS bytes FROM objects
       WHERE ($1::text IS NULL OR bucket = $1) AND is_current AND NOT COALESCE((meta->>'deleteMarker')::boolean, false)`,
      [bucket ?? null],
    );
    return row!;
  }
}
