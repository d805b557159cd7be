/**
 * Rate limits: token buckets on requests per second and on body bytes per second, per access
 * key, per client address for anonymous requests, and per bucket. A request over a limit is
 * answered 503 SlowDown with Retry-After at once (clients back off on it); none is held.
 * Byte budgets are charged when a request ends, and a request is refused while its budget is
 * overdrawn. With no limit configured anywhere the limiter is skipped entirely (`active`).
 *
 * A lone process limits on its own (no syncing). With `shareRates` (--workers, --meta nodes) the
 * processes exchange their use through the limits store every 100 ms (shared-budget.ts), so a
 * limit holds for the deployment, not per process. Monthly transfer budgets are persisted and
 * shared through the same store either way (transfer-budget.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors/s3-error.js';
import type { Principal } from '../../auth/types.js';
import type { Store } from '../../storage/types.js';
import { bucketLimits, type BucketLimits } from './bucket-limits.js';
import { ClientAddresses } from './client-address.js';
import { TokenBuckets } from './token-buckets.js';
import { BudgetShare, PRUNE_AGE_MS, type LimitsStore } from './shared-budget.js';
import { TransferBudgets } from './transfer-budget.js';
import { SharedTotals } from './shared-totals.js';

export interface ServerLimits {
  /** Requests per second per access key. */
  keyRps?: number;
  /** Requests per second per client address, for anonymous requests. */
  anonymousRps?: number;
  /** Body bytes per second per access key, and per client address for anonymous requests. */
  bandwidth?: number;
  /** Proxies whose X-Forwarded-For names the client (CIDR ranges). */
  trustedProxies?: string[];
}

export interface LimiterOptions {
  /** Where transfer budgets are kept (and rate use exchanged, with `shareRates`). */
  limitsStore?: LimitsStore;
  /** Other processes serve the same deployment: exchange rate use with them through the store. */
  shareRates?: boolean;
  /** Milliseconds between rate syncs (default 100). */
  syncMs?: number;
}

export const THROTTLE_REASONS = ['key_rps', 'anonymous_rps', 'key_bandwidth', 'anonymous_bandwidth', 'bucket_rps', 'bucket_anonymous_rps', 'bucket_bandwidth', 'transfer_budget'] as const;
export type ThrottleReason = (typeof THROTTLE_REASONS)[number];

const TOTALS_SYNC_MS = 1000;
const PRUNE_MS = 60_000;

export class RequestLimiter {
  /** This process's refusals by reason (shared mode: also added to the deployment's counters). */
  private readonly refused = new Map<ThrottleReason, number>();
  private readonly buckets: TokenBuckets;
  private readonly addresses: ClientAddresses;
  private readonly serverWide: boolean;
  private checkedGeneration = -1;
  private anyBucketLimits = false;
  /** Each limited bucket's limits as of `checkedGeneration`: admit() asks no store per request. */
  private bucketLimitsByName = new Map<string, BucketLimits>();
  /** Buckets with a monthly transfer budget -> the budget (bytes), re-read when the store changes. */
  private budgets = new Map<string, number>();
  private readonly share: BudgetShare | undefined;
  private readonly totals: SharedTotals;
  private readonly transfer: TransferBudgets;
  private readonly timer: NodeJS.Timeout | undefined;
  private lastTotalsSync = 0;
  private lastPrune = 0;

  constructor(private readonly store: Store, private readonly limits: ServerLimits = {}, private readonly options: LimiterOptions = {}) {
    this.addresses = new ClientAddresses(limits.trustedProxies);
    this.serverWide = limits.keyRps !== undefined || limits.anonymousRps !== undefined || limits.bandwidth !== undefined;
    const shared = options.shareRates === true && options.limitsStore !== undefined;
    this.buckets = new TokenBuckets(undefined, { noteUse: shared });
    if (shared) this.share = new BudgetShare(options.limitsStore!, this.buckets, `${process.pid}-${randomBytes(4).toString('hex')}`);
    this.totals = new SharedTotals(options.limitsStore);
    this.transfer = new TransferBudgets(this.totals);
    if (options.limitsStore) {
      this.timer = setInterval(() => void this.tick(), shared ? (options.syncMs ?? 100) : TOTALS_SYNC_MS);
      this.timer.unref();
    }
  }

  /** Whether any limit is configured: the server, or any bucket (re-checked when the store changes). */
  get active(): boolean {
    if (this.store.generation !== this.checkedGeneration) this.readBucketLimits();
    return this.serverWide || this.anyBucketLimits;
  }

  private readBucketLimits(): void {
    this.checkedGeneration = this.store.generation;
    const budgets = new Map<string, number>();
    const byName = new Map<string, BucketLimits>();
    for (const b of this.store.listBuckets()) {
      const limits = bucketLimits(this.store, b.name);
      if (limits === undefined) continue;
      byName.set(b.name, limits);
      if (limits.monthlyTransfer !== undefined) budgets.set(b.name, limits.monthlyTransfer);
    }
    this.anyBucketLimits = byName.size > 0;
    this.bucketLimitsByName = byName;
    this.budgets = budgets;
  }

  /** Reads the shared totals before the first request (a restart continues the month's transfer count). */
  async start(): Promise<void> {
    if (this.active) await this.syncTotals();
  }

  /** Transfer counters of budgeted buckets; with shared limits, the throttled counters too. */
  private async syncTotals(): Promise<void> {
    const read = this.transfer.counters(this.budgets);
    if (this.share) read.push(...THROTTLE_REASONS.map(throttledCounter));
    await this.totals.sync(read);
    this.transfer.check(this.budgets);
  }

  /** Never rejects: a store that throws (busy, unreachable) is retried on the next tick. */
  private async tick(): Promise<void> {
    try {
      if (!this.active) return;
      const now = Date.now();
      if (this.share) {
        await this.share.sync();
        if (now - this.lastPrune > PRUNE_MS) {
          this.lastPrune = now;
          await this.options.limitsStore!.prune(PRUNE_AGE_MS);
        }
      }
      if (now - this.lastTotalsSync >= TOTALS_SYNC_MS - 50) {
        this.lastTotalsSync = now;
        await this.syncTotals();
      }
    } catch {
      // Only prune() gets here (sync() never rejects): the next minute's prune tries again.
    }
  }

  /** Writes what is still unsynced (at shutdown, before the store closes). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.active) await this.syncTotals();
    await this.options.limitsStore?.close();
  }

  /**
   * Throws SlowDown when the request is over a limit; otherwise arranges for its bytes to be charged.
   * `responseBytes`: the body's length, for answers whose head is not kept on `res` (the
   * repeated-answer cache writes its head in one writeHead); otherwise its Content-Length header.
   */
  admit(req: IncomingMessage, res: ServerResponse, principal: Principal, bucket: string | undefined, responseBytes?: number): void {
    const l = this.limits;
    const anonymous = principal.kind !== 'user';
    const who = anonymous ? `ip:${this.addresses.of(req)}` : `key:${principal.credential.accessKeyId}`;
    const perBucket = bucket === undefined ? undefined : this.limitsOf(bucket);
    const rps = anonymous ? l.anonymousRps : l.keyRps;
    if (rps !== undefined) this.spend(`${who}:rps`, rps, anonymous ? 'anonymous_rps' : 'key_rps');
    if (l.bandwidth !== undefined) this.solvent(`${who}:bytes`, l.bandwidth, anonymous ? 'anonymous_bandwidth' : 'key_bandwidth');
    if (perBucket?.rps !== undefined) this.spend(`bucket:${bucket}:rps`, perBucket.rps, 'bucket_rps');
    if (anonymous && perBucket?.anonymousRps !== undefined) this.spend(`bucket:${bucket}:anon`, perBucket.anonymousRps, 'bucket_anonymous_rps');
    if (perBucket?.bandwidth !== undefined) this.solvent(`bucket:${bucket}:bytes`, perBucket.bandwidth, 'bucket_bandwidth');
    if (anonymous && perBucket?.overBudget === 'refuse-anonymous' && perBucket.monthlyTransfer !== undefined && this.sentThisMonth(bucket!) >= perBucket.monthlyTransfer) {
      this.count('transfer_budget');
      throw new S3Error('AccessDenied', "The bucket's monthly transfer budget is spent: anonymous reads are refused until the month ends.");
    }
    const charged = l.bandwidth !== undefined || perBucket?.bandwidth !== undefined || perBucket?.monthlyTransfer !== undefined;
    if (!charged) return;
    res.once('finish', () => {
      const sent = responseBytes ?? Number(res.getHeader('content-length') ?? 0);
      const bytes = Number(req.headers['content-length'] ?? 0) + sent;
      if (l.bandwidth !== undefined) this.buckets.charge(`${who}:bytes`, l.bandwidth, bytes);
      if (perBucket?.bandwidth !== undefined) this.buckets.charge(`bucket:${bucket}:bytes`, perBucket.bandwidth, bytes);
      if (perBucket?.monthlyTransfer !== undefined) this.transfer.note(bucket!, sent, perBucket.monthlyTransfer);
    });
  }

  /** The bucket's limits, from the copy re-read when the store's generation moves. */
  private limitsOf(bucket: string): BucketLimits | undefined {
    if (this.store.generation !== this.checkedGeneration) this.readBucketLimits();
    return this.bucketLimitsByName.get(bucket);
  }

  /** Bytes sent for the bucket this month (UTC) by the whole deployment, as far as this process knows. */
  sentThisMonth(bucket: string): number {
    return this.transfer.sent(bucket);
  }

  /** Rate syncs done (shared mode), for tests and measurements. */
  get syncs(): number {
    return this.share?.syncs ?? 0;
  }

  private spend(name: string, rate: number, reason: ThrottleReason): void {
    const wait = this.buckets.take(name, rate);
    if (wait > 0) this.refuse(wait, reason);
  }

  private solvent(name: string, rate: number, reason: ThrottleReason): void {
    const wait = this.buckets.overdrawn(name, rate);
    if (wait > 0) this.refuse(wait, reason);
  }

  private refuse(waitSeconds: number, reason: ThrottleReason): never {
    this.count(reason);
    throw new S3Error('SlowDown', undefined, {}, { 'Retry-After': String(Math.max(1, Math.ceil(waitSeconds))) });
  }

  count(reason: ThrottleReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    if (this.share) this.totals.add(throttledCounter(reason), 1);
  }

  /**
   * Requests refused by reason: this process's own, or with shared limits the deployment's (every
   * worker or node, kept across restarts), as far as this process knows (the others' last ~1 s missing).
   */
  get throttled(): ReadonlyMap<ThrottleReason, number> {
    if (!this.share) return this.refused;
    return new Map(THROTTLE_REASONS.map((r) => [r, this.totals.value(throttledCounter(r))]));
  }
}

function throttledCounter(reason: ThrottleReason): string {
  return `throttled:${reason}`;
}
