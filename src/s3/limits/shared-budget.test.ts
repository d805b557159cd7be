/**
 * The shared-budget bound, checked on a simulated clock (no timing): N processes with token
 * buckets of rate R, each offered far more than R, syncing every 100 ms through an in-memory
 * LimitsStore, admit together at most R x D + N x B + (N - 1) x R x L (shared-budget.ts) and not
 * much less than R x D; without the sync they admit about N x R x D.
 */
import { describe, expect, it } from 'vitest';
import { BudgetShare, type LimitsStore, type UseRow } from './shared-budget.js';
import { TokenBuckets } from './token-buckets.js';

class MemoryStore implements LimitsStore {
  private readonly rows = new Map<string, UseRow>();
  constructor(private readonly clock: () => number) {}
  exchange(node: string, use: [string, number][], since: number | undefined) {
    const now = this.clock();
    for (const [name, amount] of use) {
      const row = this.rows.get(`${name}\n${node}`);
      if (row) Object.assign(row, { used: row.used + amount, last: amount, at: now });
      else this.rows.set(`${name}\n${node}`, { name, node, used: amount, last: amount, at: now });
    }
    return { now, rows: since === undefined ? [] : [...this.rows.values()].filter((r) => r.at > since && r.node !== node).map((r) => ({ ...r })) };
  }
  prune(): void {}
  addTotals(): Map<string, number> {
    return new Map();
  }
  close(): void {}
}

/** Every process tries `perMs` requests each simulated millisecond for `seconds`; returns how many were admitted. */
async function simulate(processes: number, rate: number, seconds: number, opts: { sync: boolean; syncMs?: number; perMs?: number }): Promise<number> {
  let now = 0;
  const store = new MemoryStore(() => now);
  const syncMs = opts.syncMs ?? 100;
  const nodes = Array.from({ length: processes }, (_, i) => {
    const buckets = new TokenBuckets(() => now, { noteUse: opts.sync });
    return { buckets, share: new BudgetShare(store, buckets, `node-${i}`), phase: Math.floor((i * syncMs) / processes) };
  });
  let admitted = 0;
  for (now = 0; now < seconds * 1000; now++) {
    for (const node of nodes) {
      if (opts.sync && now % syncMs === node.phase) await node.share.sync();
      for (let k = 0; k < (opts.perMs ?? 1); k++) if (node.buckets.take('key:K:rps', rate) === 0) admitted++;
    }
  }
  return admitted;
}

describe('shared token budgets (simulated clock)', () => {
  const R = 50;
  const D = 10;
  for (const n of [2, 4]) {
    it(`${n} processes admit within R x D + N x B + (N - 1) x R x L, not N x R x D`, async () => {
      const shared = await simulate(n, R, D, { sync: true });
      const lag = 0.2;
      expect(shared).toBeLessThanOrEqual(R * D + n * R + (n - 1) * R * lag);
      expect(shared).toBeGreaterThanOrEqual(R * D * 0.95);
      const alone = await simulate(n, R, D, { sync: false });
      expect(alone).toBeGreaterThanOrEqual(n * R * D);
    });
  }

  it('a row read again in the overlap of two syncs is charged once', async () => {
    let now = 0;
    const store = new MemoryStore(() => now);
    const a = new TokenBuckets(() => now, { noteUse: true });
    const b = new TokenBuckets(() => now, { noteUse: true });
    const shareA = new BudgetShare(store, a, 'a');
    const shareB = new BudgetShare(store, b, 'b');
    await shareB.sync();
    expect(b.take('k', 10, 1)).toBe(0); // b's bucket exists: 9 tokens left
    for (let i = 0; i < 5; i++) expect(a.take('k', 10)).toBe(0);
    await shareA.sync();
    now = 100;
    await shareB.sync(); // charges a's 5
    now = 200;
    await shareB.sync(); // reads a's row again (overlap): nothing new
    // 9 - 5 + refill of 0.2 s x 10 = 6 tokens: six more, not a seventh.
    let more = 0;
    while (b.take('k', 10) === 0) more++;
    expect(more).toBe(6);
  });
});
