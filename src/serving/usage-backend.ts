/**
 * Where usage counts go and where reports read them: the data folder's SQLite (the default, one
 * machine) or PostgreSQL (`--meta`, every node of a cluster adds to the same rows). Reads may be
 * synchronous (SQLite) or return Promises (PostgreSQL); callers await either.
 */
import type { UsageBatch } from './usage-pending.js';
import type { StatsQuery, StatsReport } from './stats-report.js';

export type Maybe<T> = T | Promise<T>;

/** Adds one batch to the shared counters, in one transaction (all of it or none). */
export interface UsageSink {
  write(batch: UsageBatch): Maybe<void>;
}

export interface StatsSource {
  report(q: StatsQuery): Maybe<StatsReport>;
}

export interface MetricsSource {
  render(): Maybe<string>;
}

/** The admin API's readers of the usage tables. */
export interface UsageReaders {
  stats: StatsSource;
  metrics: MetricsSource;
}
