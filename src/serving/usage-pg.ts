/**
 * `--meta postgres://...`: the usage counters in PostgreSQL, where every node adds its batch, so
 * stats and metrics read from any node are the totals of all of them (each node's last ~2 s
 * excepted). One flush is one transaction of set-based upserts (one statement per table, rows
 * passed as arrays), `ON CONFLICT DO UPDATE SET x = t.x + EXCLUDED.x`: a node's batch is added
 * whole or not at all, and nodes flushing at once add up instead of overwriting each other.
 */
import type { PgDb, Sql } from '../storage/postgres/db.js';
import type { UsageSink } from './usage-backend.js';
import type { UsageBatch } from './usage-pending.js';

const OBJECT_COUNTERS = ['requests', 'bytes_out', 'bytes_in', 's2xx', 's3xx', 's4xx', 's5xx', 'anonymous', 'signed', 'puts', 'gets'] as const;

const UPSERT_OBJECTS = `INSERT INTO usage_hourly AS t (bucket, key, hour, ${OBJECT_COUNTERS.join(', ')})
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], ${OBJECT_COUNTERS.map((_, i) => `$${i + 4}::bigint[]`).join(', ')})
  ON CONFLICT (bucket, key, hour) DO UPDATE SET ${OBJECT_COUNTERS.map((c) => `${c} = t.${c} + EXCLUDED.${c}`).join(', ')}`;
const UPSERT_REFERRERS = `INSERT INTO usage_referrers AS t (bucket, key, hour, host, requests)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[])
  ON CONFLICT (bucket, key, hour, host) DO UPDATE SET requests = t.requests + EXCLUDED.requests`;
const UPSERT_OPS = `INSERT INTO metrics_requests AS t (op, status, requests, bytes_in, bytes_out, seconds)
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[])
  ON CONFLICT (op, status) DO UPDATE SET requests = t.requests + EXCLUDED.requests, bytes_in = t.bytes_in + EXCLUDED.bytes_in,
    bytes_out = t.bytes_out + EXCLUDED.bytes_out, seconds = t.seconds + EXCLUDED.seconds`;
const UPSERT_LATENCY = `INSERT INTO metrics_latency AS t (op, bucket, count)
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
  ON CONFLICT (op, bucket) DO UPDATE SET count = t.count + EXCLUDED.count`;
const UPSERT_TOTALS = `INSERT INTO metrics_totals AS t (name, value)
  SELECT * FROM unnest($1::text[], $2::bigint[])
  ON CONFLICT (name) DO UPDATE SET value = t.value + EXCLUDED.value`;

/** Rows in one order on every node, so that two concurrent flushes lock them in the same order. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class PgUsageSink implements UsageSink {
  constructor(private readonly db: PgDb) {}

  write(batch: UsageBatch): Promise<void> {
    return this.db.tx((sql) => addBatch(sql, batch));
  }
}

async function addBatch(sql: Sql, batch: UsageBatch): Promise<void> {
  const totals = Object.entries(batch.totals).filter(([, n]) => n !== 0).sort(([a], [b]) => byText(a, b));
  if (totals.length > 0) await sql.query(UPSERT_TOTALS, [totals.map(([name]) => name), totals.map(([, n]) => n)]);

  const objects = [...batch.objects].sort((a, b) => byText(a.bucket, b.bucket) || byText(a.key, b.key) || a.hour - b.hour);
  if (objects.length > 0) {
    await sql.query(UPSERT_OBJECTS, [
      objects.map((o) => o.bucket),
      objects.map((o) => o.key),
      objects.map((o) => o.hour),
      objects.map((o) => o.requests),
      objects.map((o) => o.bytesOut),
      objects.map((o) => o.bytesIn),
      objects.map((o) => o.s2xx),
      objects.map((o) => o.s3xx),
      objects.map((o) => o.s4xx),
      objects.map((o) => o.s5xx),
      objects.map((o) => o.anonymous),
      objects.map((o) => o.signed),
      objects.map((o) => o.puts),
      objects.map((o) => o.gets),
    ]);
  }
  const referrers = objects.flatMap((o) => [...(o.referrers ?? [])].sort(([a], [b]) => byText(a, b)).map(([host, n]) => ({ o, host, n })));
  if (referrers.length > 0) {
    await sql.query(UPSERT_REFERRERS, [referrers.map((r) => r.o.bucket), referrers.map((r) => r.o.key), referrers.map((r) => r.o.hour), referrers.map((r) => r.host), referrers.map((r) => r.n)]);
  }

  const ops = [...batch.ops].sort((a, b) => byText(a.op, b.op) || a.status - b.status);
  if (ops.length > 0) {
    // Byte counts are whole numbers; seconds stay fractional.
    await sql.query(UPSERT_OPS, [ops.map((o) => o.op), ops.map((o) => o.status), ops.map((o) => o.requests), ops.map((o) => o.bytesIn), ops.map((o) => o.bytesOut), ops.map((o) => o.seconds)]);
  }
  const latency = [...batch.latency].sort((a, b) => byText(a.op, b.op)).flatMap((l) => l.buckets.map((count, bucket) => ({ op: l.op, bucket, count })).filter((c) => c.count > 0));
  if (latency.length > 0) await sql.query(UPSERT_LATENCY, [latency.map((l) => l.op), latency.map((l) => l.bucket), latency.map((l) => l.count)]);
}
