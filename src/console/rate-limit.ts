/**
 * Sign-in attempts, limited per client address and per access key: after `maxFailures` failed
 * sign-ins within `windowMs`, more are refused (a correct secret too) until the oldest failure
 * leaves the window. In memory, per server process.
 */
export interface SignInLimits {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { maxFailures: 5, windowMs: 15 * 60_000 };

/** Past this many tracked names the oldest are forgotten: a flood of made-up keys cannot fill memory. */
const MAX_TRACKED = 100_000;

export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: SignInLimits) {}

  /** Milliseconds until `name` may try again, or 0. */
  waitFor(name: string, now = Date.now()): number {
    const recent = this.recent(name, now);
    if (recent.length < this.limits.maxFailures) return 0;
    return recent[recent.length - this.limits.maxFailures]! + this.limits.windowMs - now;
  }

  recordFailure(name: string, now = Date.now()): void {
    const recent = this.recent(name, now);
    recent.push(now);
    this.failures.delete(name);
    this.failures.set(name, recent.slice(-this.limits.maxFailures));
    if (this.failures.size > MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(name: string, now: number): number[] {
    const list = (this.failures.get(name) ?? []).filter((t) => t > now - this.limits.windowMs);
    if (list.length === 0) this.failures.delete(name);
    return list;
  }
}
