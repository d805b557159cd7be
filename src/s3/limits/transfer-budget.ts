/**
 * Monthly transfer budgets, persisted and shared: every process adds the response bytes it sent
 * per budgeted bucket to one row per bucket and month of the limits store (SQLite beside the data
 * folder, or PostgreSQL with --meta) about once a second, and reads back the month's totals in
 * the same statement. So a restart continues the count, and the processes of a deployment reach
 * the budget together. A process's view is the last total read plus what it sent since (the
 * other processes' last second or so is missing from it).
 */
import type { LimitsStore } from './shared-budget.js';

interface Month {
  month: string;
  /** The deployment's total as last read (it includes `inFlight` once the write lands). */
  synced: number;
  inFlight: number;
  pending: number;
  warned: boolean;
}

export class TransferBudgets {
  private readonly byBucket = new Map<string, Month>();
  private running = false;
  private failures = 0;

  /** Without a store (a limiter made without one) the counts stay in this process's memory. */
  constructor(private readonly store: LimitsStore | undefined) {}

  /** Bytes the deployment sent for the bucket this month (UTC), as far as this process knows. */
  sent(bucket: string): number {
    const entry = this.byBucket.get(bucket);
    return entry && entry.month === thisMonth() ? entry.synced + entry.inFlight + entry.pending : 0;
  }

  note(bucket: string, bytes: number, budget: number): void {
    const entry = this.entry(bucket);
    entry.pending += bytes;
    this.warnOnce(bucket, entry, budget);
  }

  /** Writes what was sent and reads the totals of `budgets` (bucket -> budget). Never rejects. */
  async sync(budgets: Map<string, number>): Promise<void> {
    if (this.running || this.store === undefined) return;
    const month = thisMonth();
    const sent: [string, number][] = [];
    for (const [bucket, entry] of this.byBucket) {
      if (entry.month !== month) this.byBucket.delete(bucket);
      else if (entry.pending > 0) {
        sent.push([bucket, entry.pending]);
        entry.inFlight = entry.pending;
        entry.pending = 0;
      }
    }
    if (sent.length === 0 && budgets.size === 0) return;
    this.running = true;
    try {
      const totals = await this.store.addTransfer(month, sent.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), [...budgets.keys()]);
      for (const [bucket, total] of totals) {
        const entry = this.entry(bucket);
        if (entry.month !== month) continue;
        entry.synced = total;
        entry.inFlight = 0;
        const budget = budgets.get(bucket);
        if (budget !== undefined) this.warnOnce(bucket, entry, budget);
      }
      this.failures = 0;
    } catch (err) {
      for (const [bucket] of sent) {
        const entry = this.byBucket.get(bucket);
        if (entry) {
          entry.pending += entry.inFlight;
          entry.inFlight = 0;
        }
      }
      if (this.failures++ === 0) console.error(`offload: transfer budget sync failed (kept in memory until it works again): ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private entry(bucket: string): Month {
    const month = thisMonth();
    let entry = this.byBucket.get(bucket);
    if (!entry || entry.month !== month) this.byBucket.set(bucket, (entry = { month, synced: 0, inFlight: 0, pending: 0, warned: false }));
    return entry;
  }

  /** One line per process when it sees the budget crossed (the first time this month). */
  private warnOnce(bucket: string, entry: Month, budget: number): void {
    const total = entry.synced + entry.inFlight + entry.pending;
    if (entry.warned || total < budget) return;
    entry.warned = true;
    console.warn(`offload: bucket ${bucket} has sent ${total} bytes this month, its monthly transfer budget of ${budget} bytes is spent`);
  }
}

export function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}
