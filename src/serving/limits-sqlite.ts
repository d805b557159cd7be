/**
 * The limits store of a data folder (no --meta): DATA/limits.db, a small SQLite database of its
 * own (WAL), so that the workers' rate syncs, ten a second each, never wait on the metadata
 * database's write lock. Opened on first use: a server with no limit never creates it.
 * Rate rows are running totals per (limit name, process); limit_totals are counters every process
 * adds to (monthly transfer per bucket, throttled requests by reason).
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
CREATE TABLE IF NOT EXISTS limit_totals (
  name TEXT PRIMARY KEY,
  value REAL NOT NULL
) WITHOUT ROWID;
`;

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const addUse = db.prepare<[string, number, string]>(`INSERT INTO rate_use (name, node, used, last, at)
    SELECT key, ?, value, value, ? FROM json_each(?) WHERE true
    ON CONFLICT (name, node) DO UPDATE SET used = used + excluded.used, last = excluded.last, at = excluded.at`);
  const changed = db.prepare<[number, string], UseRow>('SELECT name, node, used, last, at FROM rate_use WHERE at > ? AND node <> ?');
  const add = db.prepare<[string, number]>(`INSERT INTO limit_totals (name, value) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`);
  const total = db.prepare<[string], { value: number }>('SELECT value FROM limit_totals WHERE name = ?');
  return {
    exchange: db.transaction((node: string, use: [string, number][], since: number | undefined) => {
      const now = Date.now();
      if (use.length > 0) addUse.run(node, now, JSON.stringify(Object.fromEntries(use)));
      return { now, rows: since === undefined ? [] : changed.all(since, node) };
    }),
    totals: db.transaction((adds: [string, number][], read: string[]) => {
      for (const [name, amount] of adds) add.run(name, amount);
      const totals = new Map<string, number>();
      for (const name of new Set([...read, ...adds.map(([n]) => n)])) totals.set(name, total.get(name)?.value ?? 0);
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

  addTotals(adds: [string, number][], read: string[]): Map<string, number> {
    return this.open().totals.immediate(adds, read);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
  }
}
