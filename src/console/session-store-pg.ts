/**
 * Console sessions in PostgreSQL (`--meta`): a sign-in through one node is valid on every node,
 * and a sign-out (or a deleted key) on any node ends it everywhere, since every request looks
 * its session up in the one table. As in SQLite, only the SHA-256 of the session id is kept.
 */
import type { PgDb } from '../storage/postgres/db.js';
import type { SessionRecord, SessionStore } from './session-store.js';

type Row = { id_hash: string; access_key_id: string; csrf_token: string; created_at: string; last_seen_at: string };

export class PgSessionStore implements SessionStore {
  constructor(private readonly db: PgDb) {}

  async insert(r: SessionRecord): Promise<void> {
    await this.db.query('INSERT INTO console_sessions (id_hash, access_key_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)', [
      r.idHash,
      r.accessKeyId,
      r.csrfToken,
      r.createdAt,
      r.lastSeenAt,
    ]);
  }

  async find(idHash: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.read<Row>('SELECT * FROM console_sessions WHERE id_hash = $1', [idHash]);
    const row = rows[0];
    // bigint columns arrive as strings; epoch milliseconds are exact as numbers.
    return row && { idHash: row.id_hash, accessKeyId: row.access_key_id, csrfToken: row.csrf_token, createdAt: Number(row.created_at), lastSeenAt: Number(row.last_seen_at) };
  }

  async touch(idHash: string, at: number): Promise<void> {
    // Never backwards: two nodes touching at once keep the later time.
    await this.db.query('UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id_hash = $2', [at, idHash]);
  }

  async remove(idHash: string): Promise<void> {
    await this.db.query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash]);
  }

  async removeForKey(accessKeyId: string): Promise<void> {
    await this.db.query('DELETE FROM console_sessions WHERE access_key_id = $1', [accessKeyId]);
  }

  async removeExpired(idleBefore: number, createdBefore: number): Promise<void> {
    await this.db.query('DELETE FROM console_sessions WHERE last_seen_at < $1 OR created_at < $2', [idleBefore, createdBefore]);
  }

  /** The pool belongs to the Store, which closes it. */
  close(): void {}
}
