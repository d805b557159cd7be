/**
 * `offload serve --meta postgres://...`: buckets, objects, uploads and keys in PostgreSQL, so that
 * several server processes (nodes) on one database serve the same data. Blob bytes stay in the
 * data folder's blobs/ (a folder every node shares, or another BlobStorage).
 */
import { openPgStore } from '../storage/postgres/store.js';
import { attachPgKeyStore } from '../storage/postgres/keys.js';
import type { KeyStore } from '../storage/keys.js';
import type { BlobStorage } from '../storage/blobs.js';
import type { MasterKey } from '../storage/encryption/keys.js';
import type { Store } from '../storage/types.js';
import type { PgDb } from '../storage/postgres/db.js';
import { PgUsageSink } from '../serving/usage-pg.js';
import { PgMetricsQueries, PgStatsQueries } from '../serving/usage-pg-reports.js';
import type { UsageReaders, UsageSink } from '../serving/usage-backend.js';
import { PgConsoleStatsQueries } from '../console/stats-queries-pg.js';
import { PgSessionStore } from '../console/session-store-pg.js';
import { PgLimitsStore } from '../serving/limits-pg.js';
import type { LimitsStore } from '../s3/limits/shared-budget.js';
import type { ConsoleStatsSource } from '../console/stats-queries.js';
import type { SessionStore } from '../console/session-store.js';

/** What else the nodes share through the database: usage counters and reports, console sessions, rate-limit use and transfer budgets. */
export interface SharedServices {
  usageSink: UsageSink;
  limits: LimitsStore;
  usageReaders: UsageReaders;
  consoleStats: ConsoleStatsSource;
  sessions: SessionStore;
}

export function sharedServices(db: PgDb): SharedServices {
  return {
    usageSink: new PgUsageSink(db),
    limits: new PgLimitsStore(db),
    usageReaders: { stats: new PgStatsQueries(db), metrics: new PgMetricsQueries(db) },
    consoleStats: new PgConsoleStatsQueries(db),
    sessions: new PgSessionStore(db),
  };
}

export async function openSharedMetadata(url: string, dataDir: string, opts: { hotCacheBytes?: number; blobs?: BlobStorage; masterKey?: MasterKey; previousMasterKey?: MasterKey }): Promise<{ store: Store; keys: KeyStore; shared: SharedServices }> {
  const store = await openPgStore(url, { blobs: opts.blobs, blobDir: dataDir, cache: { maxTotalBytes: opts.hotCacheBytes }, masterKey: opts.masterKey, previousMasterKey: opts.previousMasterKey });
  try {
    return { store, keys: await attachPgKeyStore(store.db, store.state), shared: sharedServices(store.db) };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** The URL without its password, for the start-up banner and logs. */
export function redactMetaUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
