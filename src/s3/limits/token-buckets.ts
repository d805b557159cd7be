/**
 * Token buckets by name: `rate` tokens a second, up to one second's worth banked (the burst).
 * take() spends tokens when there are enough and otherwise says how long until there are; a
 * bucket may be charged after the fact (bytes a response sent) and so go into debt.
 *
 * When the budget is shared by several processes (shared-budget.ts), the buckets also note what
 * they spend (`takeUse`), and other processes' use is spent here too (`spendElsewhere`), so that
 * each process's bucket drains with the whole deployment's traffic. Purely local (the default),
 * nothing is noted.
 */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  /** What this process spent by name since the last takeUse(); undefined when not shared. */
  private use: Map<string, number> | undefined;

  constructor(private readonly now: () => number = () => performance.now(), options: { noteUse?: boolean } = {}) {
    if (options.noteUse === true) this.use = new Map();
  }

  /** 0 when admitted (the cost spent); otherwise seconds until it would be. */
  take(name: string, rate: number, cost = 1): number {
    const bucket = this.refill(name, rate);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      this.noteUse(name, cost);
      return 0;
    }
    return (cost - bucket.tokens) / rate;
  }

  /** Whether the bucket is out of debt (for byte budgets charged after the fact); else seconds until it is. */
  overdrawn(name: string, rate: number): number {
    const bucket = this.refill(name, rate);
    return bucket.tokens >= 0 ? 0 : -bucket.tokens / rate;
  }

  charge(name: string, rate: number, cost: number): void {
    this.refill(name, rate).tokens -= cost;
    this.noteUse(name, cost);
  }

  /** This process's use since the last call, by name (and forgets it). */
  takeUse(): Map<string, number> {
    const use = this.use ?? new Map<string, number>();
    if (this.use) this.use = new Map();
    return use;
  }

  /** Use that could not be handed on (the shared store was unreachable): kept for the next time. */
  restoreUse(use: Iterable<[string, number]>): void {
    for (const [name, amount] of use) this.noteUse(name, amount);
  }

  /**
   * Another process's use of `name`, spent here too (it may put the bucket into debt). A name
   * this process has no bucket for is skipped: its bucket starts full when first used, which the
   * bound in shared-budget.ts counts as one burst per process.
   */
  spendElsewhere(name: string, amount: number): void {
    const bucket = this.buckets.get(name);
    if (bucket !== undefined) this.refill(name, bucket.rate).tokens -= amount;
  }

  private noteUse(name: string, amount: number): void {
    if (this.use !== undefined && amount > 0) this.use.set(name, (this.use.get(name) ?? 0) + amount);
  }

  private refill(name: string, rate: number): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(name);
    if (bucket === undefined) {
      // Unbounded names (client addresses) must not grow memory without end: start afresh.
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      bucket = { tokens: rate, at: now, rate };
      this.buckets.set(name, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    bucket.rate = rate;
    return bucket;
  }
}
