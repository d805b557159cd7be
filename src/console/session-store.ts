/**
 * Where console sessions live. Only a hash of the session id is kept, so a copy of the store
 * cannot be replayed as cookies. The interface returns values or Promises, so that a PostgreSQL
 * implementation (shared by several servers) fits beside the two here.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

export interface SessionRecord {
  /** SHA-256 (hex) of the cookie's session id. */
  idHash: string;
  accessKeyId: string;
  /** Sent by the page on every state-changing call (x-offload-csrf). */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

type Maybe<T> = T | Promise<T>;

export interface SessionStore {
  insert(record: SessionRecord): Maybe<void>;
  find(idHash: string): Maybe<SessionRecord | undefined>;
  touch(idHash: string, at: number): Maybe<void>;
  remove(idHash: string): Maybe<void>;
  /** Ends every session of a key (the key was deleted). */
  removeForKey(accessKeyId: string): Maybe<void>;
  /** Drops sessions idle since before `idleBefore` or made before `createdBefore`. */
  removeExpired(idleBefore: number, createdBefore: number): Maybe<void>;
  close(): Maybe<void>;
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  insert(record: SessionRecord): void {
    this.sessions.set(record.idHash, { ...record });
  }
  find(idHash: string): SessionRecord | undefined {
    const found = this.sessions.get(idHash);
    return found && { ...found };
  }
  touch(idHash: string, at: number): void {
    const found = this.sessions.get(idHash);
    if (found) found.lastSeenAt = at;
  }
  remove(idHash: string): void {
    this.sessions.delete(idHash);
  }
  removeForKey(accessKeyId: string): void {
    for (const [id, s] of this.sessions) if (s.accessKeyId === accessKeyId) this.sessions.delete(id);
  }
  removeExpired(idleBefore: number, createdBefore: number): void {
    for (const [id, s] of this.sessions) if (s.lastSeenAt < idleBefore || s.createdAt < createdBefore) this.sessions.delete(id);
  }
  close(): void {
    this.sessions.clear();
  }
}

type Row = { id_hash: string; access_key_id: string; csrf_token: string; created_at: number; last_seen_at: number };

/**
 * Sessions in DATA/console.db (mode 0600): they survive a restart and are shared by the
 * `--workers` processes, whichever one a request lands on.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly sql;

  constructor(dataDir: string) {
    const file = join(dataDir, 'console.db');
    closeSync(openSync(file, 'a', 0o600));
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS console_sessions (
      id_hash TEXT PRIMARY KEY, access_key_id TEXT NOT NULL, csrf_token TEXT NOT NULL,
      created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL) WITHOUT ROWID`);
    this.sql = {
      insert: this.db.prepare('INSERT INTO console_sessions VALUES (?, ?, ?, ?, ?)'),
      find: this.db.prepare<[string], Row>('SELECT * FROM console_sessions WHERE id_hash = ?'),
      touch: this.db.prepare('UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?'),
      remove: this.db.prepare('DELETE FROM console_sessions WHERE id_hash = ?'),
      removeForKey: this.db.prepare('DELETE FROM console_sessions WHERE access_key_id = ?'),
      removeExpired: this.db.prepare('DELETE FROM console_sessions WHERE last_seen_at < ? OR created_at < ?'),
    };
  }

  insert(r: SessionRecord): void {
    this.sql.insert.run(r.idHash, r.accessKeyId, r.csrfToken, r.createdAt, r.lastSeenAt);
  }
  find(idHash: string): SessionRecord | undefined {
    const row = this.sql.find.get(idHash);
    return row && { idHash: row.id_hash, accessKeyId: row.access_key_id, csrfToken: row.csrf_token, createdAt: row.created_at, lastSeenAt: row.last_seen_at };
  }
  touch(idHash: string, at: number): void {
    this.sql.touch.run(at, idHash);
  }
  remove(idHash: string): void {
    this.sql.remove.run(idHash);
  }
  removeForKey(accessKeyId: string): void {
    this.sql.removeForKey.run(accessKeyId);
  }
  removeExpired(idleBefore: number, createdBefore: number): void {
    this.sql.removeExpired.run(idleBefore, createdBefore);
  }
  close(): void {
    this.db.close();
  }
}
