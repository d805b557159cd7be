/**
 * `--meta postgres://...`: the limits store in PostgreSQL (tables rate_use and limit_totals,
 * migration 8), shared by every node. Each rate sync and each transfer sync is one statement:
 * a data-modifying CTE adds this node's numbers and the same statement reads the others'. A node
 * only ever updates its own rate rows, so nodes syncing at once never wait on each other's locks.
 */
import type { PgDb } from '../storage/postgres/db.js';
import type { LimitsStore, UseRow } from '../s3/limits/shared-budget.js';

// The clock is the database's (ms), one for every node: now() is the statement's transaction start.
const EXCHANGE = `WITH mine AS (
    INSERT INTO rate_use AS t (name, node, used, last, at)
    SELECT n, $1, u, u, (extract(epoch FROM now()) * 1000)::float8 FROM unnest($2::text[], $3::float8[]) AS x(n, u)
    ON CONFLICT (name, node) DO UPDATE SET used = t.used + EXCLUDED.used, last = EXCLUDED.last, at = EXCLUDED.at
  )
  SELECT (extract(epoch FROM now()) * 1000)::float8 AS now,
    coalesce(array_agg(name), '{}') AS names, coalesce(array_agg(node), '{}') AS nodes,
    coalesce(array_agg(used), '{}') AS used, coalesce(array_agg(last), '{}') AS last, coalesce(array_agg(at), '{}') AS at
  FROM rate_use WHERE $4::float8 IS NOT NULL AND at > $4::float8 AND node <> $1`;

// RETURNING gives the totals after this statement's additions; the others are read as they are.
const TOTALS = `WITH added AS (
    INSERT INTO limit_totals AS t (name, value)
    SELECT n, v FROM unnest($1::text[], $2::float8[]) AS x(n, v)
    ON CONFLICT (name) DO UPDATE SET value = t.value + EXCLUDED.value
    RETURNING name, value
  )
  SELECT name, value FROM added
  UNION ALL
  SELECT name, value FROM limit_totals WHERE name = ANY($3::text[]) AND NOT (name = ANY($1::text[]))`;

interface ExchangeRow {
  now: number;
  names: string[];
  nodes: string[];
  used: number[];
  last: number[];
  at: number[];
}

export class PgLimitsStore implements LimitsStore {
  constructor(private readonly db: PgDb) {}

  async exchange(node: string, use: [string, number][], since: number | undefined): Promise<{ now: number; rows: UseRow[] }> {
    const result = await this.db.query<ExchangeRow>(EXCHANGE, [node, use.map(([n]) => n), use.map(([, u]) => u), since ?? null]);
    const r = result.rows[0]!;
    return { now: r.now, rows: r.names.map((name, i) => ({ name, node: r.nodes[i]!, used: r.used[i]!, last: r.last[i]!, at: r.at[i]! })) };
  }

  async prune(ageMs: number): Promise<void> {
    await this.db.query('DELETE FROM rate_use WHERE at < (extract(epoch FROM now()) * 1000)::float8 - $1::float8', [ageMs]);
  }

  async addTotals(adds: [string, number][], read: string[]): Promise<Map<string, number>> {
    const result = await this.db.query<{ name: string; value: number }>(TOTALS, [adds.map(([n]) => n), adds.map(([, v]) => v), read]);
    const totals = new Map(result.rows.map((r) => [r.name, r.value]));
    // A counter no one has added to yet has no row: it is 0.
    for (const name of read) if (!totals.has(name)) totals.set(name, 0);
    return totals;
  }

  /** The pool belongs to the store. */
  close(): void {}
}
