/**
 * Rate limits that hold across a deployment (`--workers N` on one data folder, or several
 * `--meta` nodes) without a round trip per request. Every process admits from its own token
 * buckets, as a lone process does; every `syncMs` (100 ms) it adds what it spent since the last
 * sync to its own rows of a shared table (one row per limit name and process, a running total)
 * and, in the same statement, reads the rows the other processes changed since its previous
 * sync. What they spent is spent from its own buckets too, so each bucket drains with the whole
 * deployment's traffic, a little late.
 *
 * The bound. Over any period of D seconds, with N processes, rate R and burst B (= R x 1 s):
 *   admitted <= R x D + N x B + (N - 1) x R x L
 * where L, the lag, is at most two sync intervals plus a statement's time (~0.2-0.3 s): the
 * process that admitted last had been charged everything the others did before the last L; at
 * most one burst per process was banked at the start; and in the last L each other process could
 * admit at most a burst plus L x R. A lone process admits R x D + B. Over a long period the
 * deployment's rate is R; the excess is a constant, not a share of the traffic.
 *
 * Rows are running totals, so a row read twice (the read window overlaps the previous one by
 * `OVERLAP_MS`, for writes that committed late) is counted once: what is charged is the growth
 * since the total last seen.
 */
import type { TokenBuckets } from './token-buckets.js';

type Maybe<T> = T | Promise<T>;

/** A process's running total of one limit's use, as the shared table holds it. */
export interface UseRow {
  name: string;
  node: string;
  /** Everything this node spent of the name since the row was made. */
  used: number;
  /** What its latest sync added (charged when the row is seen for the first time). */
  last: number;
  /** The store's clock (ms) when it last changed. */
  at: number;
}

/** The shared tables of limits: SQLite beside the data folder's database, or PostgreSQL with --meta. */
export interface LimitsStore {
  /**
   * One statement: adds this node's use since its last call to its rows, and returns the store's
   * clock and the rows of other nodes changed after `since` (no rows when `since` is undefined).
   */
  exchange(node: string, use: [string, number][], since: number | undefined): Maybe<{ now: number; rows: UseRow[] }>;
  /** Deletes rows no node changed for `ageMs`. */
  prune(ageMs: number): Maybe<void>;
  /** One statement: adds to shared counters (shared-totals.ts) and returns the totals of those added to and of `read`. */
  addTotals(adds: [string, number][], read: string[]): Maybe<Map<string, number>>;
  close(): Maybe<void>;
}

const OVERLAP_MS = 300;
/** Totals not seen changing for this long are forgotten here (the store keeps rows longer, see PRUNE_AGE_MS). */
const FORGET_MS = 5 * 60_000;
export const PRUNE_AGE_MS = 10 * 60_000;

export class BudgetShare {
  /** node + '\n' + name -> the running total last seen, and when it changed. */
  private readonly seen = new Map<string, { used: number; at: number }>();
  private lastNow: number | undefined;
  private lastForget = 0;
  private running = false;
  private failures = 0;
  /** Syncs done and others' use charged, for the measurements in the notes. */
  syncs = 0;

  constructor(private readonly store: LimitsStore, private readonly buckets: TokenBuckets, readonly node: string) {}

  /** One exchange; skipped while the previous one is still under way. Never rejects. */
  async sync(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const use = [...this.buckets.takeUse()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    try {
      const since = this.lastNow === undefined ? undefined : this.lastNow - OVERLAP_MS;
      const { now, rows } = await this.store.exchange(this.node, use, since);
      this.lastNow = now;
      for (const row of rows) this.charge(row);
      if (now - this.lastForget > 60_000) this.forget(now);
      this.syncs++;
      this.failures = 0;
    } catch (err) {
      this.buckets.restoreUse(use);
      // An unreachable store fails every 100 ms: one line per run of failures.
      if (this.failures++ === 0) console.error(`offload: rate-limit sync failed (each process limits on its own until it works again): ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private charge(row: UseRow): void {
    const id = `${row.node}\n${row.name}`;
    const before = this.seen.get(id);
    // A total lower than the one seen: the row was pruned and made anew.
    const grown = before === undefined ? row.last : row.used >= before.used ? row.used - before.used : row.used;
    this.seen.set(id, { used: row.used, at: row.at });
    if (grown > 0) this.buckets.spendElsewhere(row.name, grown);
  }

  private forget(now: number): void {
    this.lastForget = now;
    for (const [id, entry] of this.seen) if (entry.at < now - FORGET_MS) this.seen.delete(id);
  }
}
