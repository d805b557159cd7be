/**
 * The origin layer's per-process memory: one in-flight origin fetch per key (single flight),
 * recent 404s (negative cache), when filled objects were last read (for LRU eviction), and the
 * counters that go into /_offload/metrics and `offload stats`.
 */

/** One shared promise per key while it is pending: concurrent misses wait on the one fetch. */
export class SingleFlight<T> {
  private readonly pending = new Map<string, Promise<T>>();

  get(key: string): Promise<T> | undefined {
    return this.pending.get(key);
  }

  /** Runs `work` unless a run for `key` is pending; the run is forgotten once it settles. */
  start(key: string, work: () => Promise<T>): Promise<T> {
    const running = work();
    this.pending.set(key, running);
    const forget = () => {
      if (this.pending.get(key) === running) this.pending.delete(key);
    };
    running.then(forget, forget);
    return running;
  }
}

/** Keys the origin answered 404 for, until their TTL passes. */
export class NegativeCache {
  private readonly until = new Map<string, number>();
  private static readonly MAX = 100_000;

  has(key: string, now = Date.now()): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(key);
    return false;
  }

  add(key: string, ttlSeconds: number, now = Date.now()): void {
    if (ttlSeconds <= 0) return;
    if (this.until.size >= NegativeCache.MAX) this.until.clear();
    this.until.set(key, now + ttlSeconds * 1000);
  }

  /** Forgets `key`, or every key under `prefix` (purge). */
  forget(match: (key: string) => boolean): void {
    for (const key of this.until.keys()) if (match(key)) this.until.delete(key);
  }
}

/** Last read of each filled object in this process; absent ones count from their fetch time. */
export class RecentReads {
  private readonly at = new Map<string, number>();

  touch(key: string, now = Date.now()): void {
    this.at.delete(key);
    this.at.set(key, now);
    if (this.at.size > 1_000_000) this.at.delete(this.at.keys().next().value!);
  }

  lastRead(key: string): number | undefined {
    return this.at.get(key);
  }

  forget(key: string): void {
    this.at.delete(key);
  }
}

export const COUNTER_NAMES = ['hits', 'misses', 'revalidated', 'stale', 'origin_requests', 'origin_bytes', 'fills', 'evictions'] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

/** Monotonic per-bucket counters, read as `origin_<name>:<bucket>` totals by the usage recorder. */
export class OriginCounters {
  private readonly counts = new Map<string, number>();

  add(bucket: string, name: CounterName, n = 1): void {
    const id = `origin_${name}:${bucket}`;
    this.counts.set(id, (this.counts.get(id) ?? 0) + n);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
