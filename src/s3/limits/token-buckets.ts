/**
 * Token buckets by name: `rate` tokens a second, up to one second's worth banked (the burst).
 * take() spends tokens when there are enough and otherwise says how long until there are; a
 * bucket may be charged after the fact (bytes a response sent) and so go into debt.
 */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** 0 when admitted (the cost spent); otherwise seconds until it would be. */
  take(name: string, rate: number, cost = 1): number {
    const bucket = this.refill(name, rate);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
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
  }

  private refill(name: string, rate: number): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(name);
    if (bucket === undefined) {
      // Unbounded names (client addresses) must not grow memory without end: start afresh.
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      bucket = { tokens: rate, at: now };
      this.buckets.set(name, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    return bucket;
  }
}
