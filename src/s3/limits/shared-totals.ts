/**
 * Counters kept in the limits store (SQLite beside the data folder, or PostgreSQL with --meta) and
 * added to by every process: the bytes a budgeted bucket sent this month, and (when processes
 * share their limits) the throttled requests by reason. Each process adds what it counted since
 * its last sync about once a second and reads back the totals in the same statement, so a restart
 * continues the counts and the processes of a deployment count together. A process's view is
 * the last total read plus what it counted since (the others' last second or so is missing).
 */
import type { LimitsStore } from './shared-budget.js';

interface Total {
  /** The deployment's total as last read (it includes `inFlight` once the write lands). */
  synced: number;
  inFlight: number;
  pending: number;
}

export class SharedTotals {
  private readonly totals = new Map<string, Total>();
  private running = false;
  private failures = 0;

  /** Without a store (a limiter made without one) the counts stay in this process's memory. */
  constructor(private readonly store: LimitsStore | undefined) {}

  value(name: string): number {
    const t = this.totals.get(name);
    return t === undefined ? 0 : t.synced + t.inFlight + t.pending;
  }

  add(name: string, amount: number): void {
    this.total(name).pending += amount;
  }

  /** Forgets counters `keep` says no (last month's). */
  forget(keep: (name: string) => boolean): void {
    for (const name of this.totals.keys()) if (!keep(name)) this.totals.delete(name);
  }

  /** Writes what was counted and reads the totals of `read` too. Never rejects. */
  async sync(read: string[]): Promise<void> {
    if (this.running || this.store === undefined) return;
    const adds: [string, number][] = [];
    for (const [name, t] of this.totals) {
      if (t.pending > 0) {
        adds.push([name, t.pending]);
        t.inFlight = t.pending;
        t.pending = 0;
      }
    }
    if (adds.length === 0 && read.length === 0) return;
    this.running = true;
    try {
      const totals = await this.store.addTotals(adds.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), read);
      for (const [name, value] of totals) {
        const t = this.total(name);
        t.synced = value;
        t.inFlight = 0;
      }
      this.failures = 0;
    } catch (err) {
      for (const [name] of adds) {
        const t = this.totals.get(name);
        if (t) {
          t.pending += t.inFlight;
          t.inFlight = 0;
        }
      }
      if (this.failures++ === 0) console.error(`offload: limits counters sync failed (kept in memory until it works again): ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private total(name: string): Total {
    let t = this.totals.get(name);
    if (t === undefined) this.totals.set(name, (t = { synced: 0, inFlight: 0, pending: 0 }));
    return t;
  }
}
