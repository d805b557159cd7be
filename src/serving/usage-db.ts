/**
 * The usage tables in the shared metadata database (DATA/meta.db), and the one transaction
 * that adds a worker's batch to them. Every worker upserts its own counts, so the totals are
 * exact across workers once each has flushed.
 */
import { openDatabase, type Db } from '../storage/schema.js';
import type { UsageBatch } from './usage-pending.js';

const USAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_hourly (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  hour INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  s2xx INTEGER NOT NULL,
  s3xx INTEGER NOT NULL,
  s4xx INTEGER NOT NULL,
  s5xx INTEGER NOT NULL,
  anonymous INTEGER NOT NULL,
  signed INTEGER NOT NULL,
  puts INTEGER NOT NULL,
  gets INTEGER NOT NULL,
  PRIMARY KEY (bucket, key, hour)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_hourly_by_hour ON usage_hourly (bucket, hour);
CREATE TABLE IF NOT EXISTS usage_referrers (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  hour INTEGER NOT NULL,
  host TEXT NOT NULL,
  requests INTEGER NOT NULL,
  PRIMARY KEY (bucket, key, hour, host)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics_requests (
  op TEXT NOT NULL,
  status INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  seconds REAL NOT NULL,
  PRIMARY KEY (op, status)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics_latency (
  op TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (op, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics_totals (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Opens this module's own connection to the metadata database and makes sure its tables exist. */
export function openUsageDatabase(dataDir: string): Db {
  const db = openDatabase(dataDir);
  // Counters may be lost in a power cut at worst; they do not need an fsync per flush.
  db.pragma('synchronous = NORMAL');
  db.exec(USAGE_SCHEMA);
  return db;
}

export type BatchWriter = (batch: UsageBatch) => void;

export function batchWriter(db: Db): BatchWriter {
  const upsertObject = db.prepare(`INSERT INTO usage_hourly (bucket, key, hour, requests, bytes_out, bytes_in, s2xx, s3xx, s4xx, s5xx, anonymous, signed, puts, gets)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (bucket, key, hour) DO UPDATE SET requests = requests + excluded.requests, bytes_out = bytes_out + excluded.bytes_out,
      bytes_in = bytes_in + excluded.bytes_in, s2xx = s2xx + excluded.s2xx, s3xx = s3xx + excluded.s3xx, s4xx = s4xx + excluded.s4xx,
      s5xx = s5xx + excluded.s5xx, anonymous = anonymous + excluded.anonymous, signed = signed + excluded.signed,
      puts = puts + excluded.puts, gets = gets + excluded.gets`);
  const upsertReferrer = db.prepare(`INSERT INTO usage_referrers (bucket, key, hour, host, requests) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (bucket, key, hour, host) DO UPDATE SET requests = requests + excluded.requests`);
  const upsertOp = db.prepare(`INSERT INTO metrics_requests (op, status, requests, bytes_in, bytes_out, seconds) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (op, status) DO UPDATE SET requests = requests + excluded.requests, bytes_in = bytes_in + excluded.bytes_in,
      bytes_out = bytes_out + excluded.bytes_out, seconds = seconds + excluded.seconds`);
  const upsertLatency = db.prepare(`INSERT INTO metrics_latency (op, bucket, count) VALUES (?, ?, ?)
    ON CONFLICT (op, bucket) DO UPDATE SET count = count + excluded.count`);
  const addTotal = db.prepare(`INSERT INTO metrics_totals (name, value) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`);
  return db.transaction((batch: UsageBatch) => {
    for (const [name, n] of Object.entries(batch.totals)) if (n !== 0) addTotal.run(name, n);
    for (const o of batch.objects) {
      upsertObject.run(o.bucket, o.key, o.hour, o.requests, o.bytesOut, o.bytesIn, o.s2xx, o.s3xx, o.s4xx, o.s5xx, o.anonymous, o.signed, o.puts, o.gets);
      for (const [host, n] of o.referrers ?? []) upsertReferrer.run(o.bucket, o.key, o.hour, host, n);
    }
    for (const o of batch.ops) upsertOp.run(o.op, o.status, o.requests, o.bytesIn, o.bytesOut, o.seconds);
    for (const l of batch.latency) {
      l.buckets.forEach((n, i) => {
        if (n > 0) upsertLatency.run(l.op, i, n);
      });
    }
  });
}
