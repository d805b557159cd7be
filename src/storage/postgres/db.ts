/**
 * The connection pool to the metadata database, and the one place its failures are classified:
 * a lost or refused connection (PostgreSQL restarting, unreachable) becomes 503
 * ServiceUnavailable, so a client retries, and the pool reconnects by itself on the next query.
 * Every round trip is counted (`roundTrips`), for the measurements in docs/scaling.md.
 */
import pg from 'pg';
import { S3Error } from '../../errors/s3-error.js';

export type Sql = Pick<pg.PoolClient, 'query'>;

export interface PgDbOptions {
  /** Connections this process keeps at most (default 10). */
  maxConnections?: number;
  /** How long a query waits for a connection before it fails with 503 (default 5 s). */
  connectTimeoutMs?: number;
}

// SQLSTATE classes and codes that mean "the database went away", not "the query was wrong".
const CONNECTION_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// Retried inside tx(): concurrent transactions that PostgreSQL resolved by aborting one of them.
const RETRY_STATES = new Set(['40001', '40P01']);

export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_STATES.has(code) || CONNECTION_CODES.has(code))) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed/i.test(message);
}

export function unavailable(): S3Error {
  return new S3Error('ServiceUnavailable', 'The metadata database is unreachable; retry shortly.');
}

/** Rethrows a lost connection as 503 ServiceUnavailable, anything else as it is. */
function classify(err: unknown): never {
  if (isConnectionError(err)) throw Object.assign(unavailable(), { cause: err });
  throw err;
}

export class PgDb {
  readonly pool: pg.Pool;
  /** Round trips to PostgreSQL so far (each query, BEGIN and COMMIT is one). */
  roundTrips = 0;
  private lastLoggedError = 0;

  constructor(url: string, options: PgDbOptions = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that the server closed (a restart) must not crash the process: the pool
    // drops it and opens a new one when needed.
    this.pool.on('error', (err) => this.logOnce(err));
  }

  private logOnce(err: Error): void {
    if (Date.now() - this.lastLoggedError < 10_000) return;
    this.lastLoggedError = Date.now();
    console.error(`offload: metadata database connection lost (${err.message}); reconnecting on the next request`);
  }

  /** One statement on any pooled connection (its own transaction). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.roundTrips++;
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      return classify(err);
    }
  }

  /**
   * A read that may safely run again: retried once on a lost connection (the pool may hand out a
   * connection the server has just closed, right after a restart).
   */
  async read<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.query<R>(text, values);
    } catch (err) {
      if (!(err instanceof S3Error && err.code === 'ServiceUnavailable')) throw err;
      return this.query<R>(text, values);
    }
  }

  /**
   * Runs fn in one transaction on one connection (READ COMMITTED: each statement sees what is
   * committed when it starts; row locks, not snapshots, make read-modify-write safe). A deadlock
   * or serialization failure runs it again; any other error rolls back and is rethrown.
   */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        return classify(err);
      }
      const sql: Sql = {
        query: ((text: string, values?: unknown[]) => {
          this.roundTrips++;
          return client.query(text, values);
        }) as Sql['query'],
      };
      let broken = false;
      try {
        await sql.query('BEGIN');
        const result = await fn(sql);
        await sql.query('COMMIT');
        return result;
      } catch (err) {
        broken = isConnectionError(err);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (err as { code?: unknown }).code;
        if (!broken && typeof code === 'string' && RETRY_STATES.has(code) && attempt < 5) continue;
        return classify(err);
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
