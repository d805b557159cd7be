/**
 * Monthly transfer budgets, persisted and shared: the response bytes a budgeted bucket sent in a
 * calendar month (UTC) are a shared counter (shared-totals.ts) named by bucket and month, so a
 * restart continues the count and the processes of a deployment reach the budget together.
 */
import type { SharedTotals } from './shared-totals.js';

export class TransferBudgets {
  /** Buckets whose spent budget this process has logged, this month. */
  private readonly warned = new Set<string>();
  private warnedMonth = thisMonth();

  constructor(private readonly totals: SharedTotals) {}

  /** Bytes the deployment sent for the bucket this month (UTC), as far as this process knows. */
  sent(bucket: string): number {
    return this.totals.value(counterName(bucket, thisMonth()));
  }

  note(bucket: string, bytes: number, budget: number): void {
    this.totals.add(counterName(bucket, thisMonth()), bytes);
    this.warnOnce(bucket, budget);
  }

  /** The counters to read back at a sync (this month's of every budgeted bucket); last month's are forgotten. */
  counters(budgets: Map<string, number>): string[] {
    const month = thisMonth();
    this.totals.forget((name) => !name.startsWith('transfer:') || name.startsWith(`transfer:${month}:`));
    return [...budgets.keys()].map((bucket) => counterName(bucket, month));
  }

  /** After a sync: the totals read may show a budget other processes spent. */
  check(budgets: Map<string, number>): void {
    for (const [bucket, budget] of budgets) this.warnOnce(bucket, budget);
  }

  /** One line per process when it sees the budget spent (the first time this month). */
  private warnOnce(bucket: string, budget: number): void {
    const month = thisMonth();
    if (month !== this.warnedMonth) {
      this.warned.clear();
      this.warnedMonth = month;
    }
    const total = this.sent(bucket);
    if (this.warned.has(bucket) || total < budget) return;
    this.warned.add(bucket);
    console.warn(`offload: bucket ${bucket} has sent ${total} bytes this month, its monthly transfer budget of ${budget} bytes is spent`);
  }
}

function counterName(bucket: string, month: string): string {
  return `transfer:${month}:${bucket}`;
}

export function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}
