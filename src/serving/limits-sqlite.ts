/**
 * The limits store of a data folder (no --meta): DATA/limits.db, a small SQLite database of its
 * own (WAL), so that the workers' rate syncs, ten a second each, never wait on the metadata
 * database's write lock. Opened on first use: a server with no limit never creates it.
 * Rate rows are running totals per (limit name, process); transfer rows per (bucket, month).
 */
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../storage/permissions.js';
import type { LimitsStore, UseRow } from '../s3/limits/shared-budget.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_use (
  name TEXT NOT NULL,
  node TEXT NOT NULL,
  used REAL NOT NULL,
  last REAL NOT NULL,
  at REAL NOT NULL,
  PRIMARY KEY (name, node)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rate_use_by_time ON rate_use (at);
CREATE TABLE IF NOT EXISTS transfer_month (
  bucket TEXT NOT NULL,
  month TEXT NOT NULL,
  bytes REAL NOT NULL,
  PRIMARY KEY (bucket, month)
) WITHOUT ROWID;
`;

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const addUse = db.prepare<[string, number, string]>(`INSERT INTO rate_use (name, node, used, last, at)
    SELECT key, ?, value, value, ? FROM json_each(?) WHERE true
    ON CONFLICT (name, node) DO UPDATE SET used = used + excluded.used, last = excluded.last, at = excluded.at`);
  const changed = db.prepare<[number, string], UseRow>('SELECT name, node, used, last, at FROM rate_use WHERE at > ? AND node <> ?');
  const addSent = db.prepare<[string, string, number]>(`INSERT INTO transfer_month (bucket, month, bytes) VALUES (?, ?, ?)
    ON CONFLICT (bucket, month) DO UPDATE SET bytes = bytes + excluded.bytes`);
  const total = db.prepare<[string, string], { bytes: number }>('SELECT bytes FROM transfer_month WHERE bucket = ? AND month = ?');
  return {
    exchange: db.transaction((node: string, use: [string, number][], since: number | undefined) => {
      const now = Date.now();
      if (use.length > 0) addUse.run(node, now, JSON.stringify(Object.fromEntries(use)));
      return { now, rows: since === undefined ? [] : changed.all(since, node) };
    }),
    transfer: db.transaction((month: string, sent: [string, number][], buckets: string[]) => {
      for (const [bucket, bytes] of sent) addSent.run(bucket, month, bytes);
      const totals = new Map<string, number>();
      for (const bucket of new Set([...buckets, ...sent.map(([b]) => b)])) totals.set(bucket, total.get(bucket, month)?.bytes ?? 0);
      return totals;
    }),
    prune: db.prepare<[number]>('DELETE FROM rate_use WHERE at < ?'),
  };
}

export class SqliteLimitsStore implements LimitsStore {
  private db: Database.Database | undefined;
  private statements: Statements | undefined;

  constructor(private readonly dataDir: string) {}

  private open(): Statements {
    if (this.statements) return this.statements;
    const file = join(this.dataDir, 'limits.db');
    // Made 0600 before SQLite opens it (SQLite would make it 0644 less the umask).
    closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
    const db = new Database(file);
    // Short: a sync that finds the database busy is retried on the next one, not waited for.
    db.pragma('busy_timeout = 100');
    db.pragma('journal_mode = WAL');
    // Counters: a power cut may lose the last second of them, never corrupt the file.
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    this.db = db;
    return (this.statements = prepare(db));
  }

  exchange(node: string, use: [string, number][], since: number | undefined): { now: number; rows: UseRow[] } {
    // Immediate: the write lock first, so the read sees every write committed before it.
    return this.open().exchange.immediate(node, use, since);
  }

  prune(ageMs: number): void {
    this.open().prune.run(Date.now() - ageMs);
  }

  addTransfer(month: string, sent: [string, number][], buckets: string[]): Map<string, number> {
    return this.open().transfer.immediate(month, sent, buckets);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
  }
}
