/**
 * Rate limits: token buckets on requests per second and on body bytes per second, per access
 * key, per client address for anonymous requests, and per bucket. A request over a limit is
 * answered 503 SlowDown with Retry-After at once (clients back off on it); none is held.
 * Byte budgets are charged when a request ends, and a request is refused while its budget is
 * overdrawn. With no limit configured anywhere the limiter is skipped entirely (`active`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../../errors/s3-error.js';
import type { Principal } from '../../auth/types.js';
import type { Store } from '../../storage/types.js';
import { bucketLimits } from './bucket-limits.js';
import { ClientAddresses } from './client-address.js';
import { TokenBuckets } from './token-buckets.js';

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

export type ThrottleReason = 'key_rps' | 'anonymous_rps' | 'key_bandwidth' | 'anonymous_bandwidth' | 'bucket_rps' | 'bucket_anonymous_rps' | 'bucket_bandwidth' | 'transfer_budget';

export class RequestLimiter {
  readonly throttled = new Map<ThrottleReason, number>();
  private readonly buckets = new TokenBuckets();
  private readonly addresses: ClientAddresses;
  private readonly serverWide: boolean;
  private checkedGeneration = -1;
  private anyBucketLimits = false;
  /** Bytes sent per bucket this month (UTC), for monthly transfer budgets. */
  readonly transfer = new Map<string, { month: string; bytes: number }>();

  constructor(private readonly store: Store, private readonly limits: ServerLimits = {}) {
    this.addresses = new ClientAddresses(limits.trustedProxies);
    this.serverWide = limits.keyRps !== undefined || limits.anonymousRps !== undefined || limits.bandwidth !== undefined;
  }

  /** Whether any limit is configured: the server, or any bucket (re-checked when the store changes). */
  get active(): boolean {
    if (this.serverWide) return true;
    if (this.store.generation !== this.checkedGeneration) {
      this.checkedGeneration = this.store.generation;
      this.anyBucketLimits = this.store.listBuckets().some((b) => this.store.getBucketConfig(b.name, 'limits') !== undefined);
    }
    return this.anyBucketLimits;
  }

  /** Throws SlowDown when the request is over a limit; otherwise arranges for its bytes to be charged. */
  admit(req: IncomingMessage, res: ServerResponse, principal: Principal, bucket: string | undefined): void {
    const l = this.limits;
    const anonymous = principal.kind !== 'user';
    const who = anonymous ? `ip:${this.addresses.of(req)}` : `key:${principal.credential.accessKeyId}`;
    const perBucket = bucket === undefined ? undefined : bucketLimits(this.store, bucket);
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
      const bytes = bodyBytes(req, res);
      if (l.bandwidth !== undefined) this.buckets.charge(`${who}:bytes`, l.bandwidth, bytes);
      if (perBucket?.bandwidth !== undefined) this.buckets.charge(`bucket:${bucket}:bytes`, perBucket.bandwidth, bytes);
      if (perBucket?.monthlyTransfer !== undefined) this.noteSent(bucket!, Number(res.getHeader('content-length') ?? 0), perBucket.monthlyTransfer);
    });
  }

  sentThisMonth(bucket: string): number {
    const entry = this.transfer.get(bucket);
    return entry && entry.month === thisMonth() ? entry.bytes : 0;
  }

  private noteSent(bucket: string, bytes: number, budget: number): void {
    const month = thisMonth();
    let entry = this.transfer.get(bucket);
    if (!entry || entry.month !== month) this.transfer.set(bucket, (entry = { month, bytes: 0 }));
    const before = entry.bytes;
    entry.bytes += bytes;
    if (before < budget && entry.bytes >= budget) console.warn(`offload: bucket ${bucket} has sent ${entry.bytes} bytes this month, its monthly transfer budget of ${budget} bytes is spent`);
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
    this.throttled.set(reason, (this.throttled.get(reason) ?? 0) + 1);
  }
}

function bodyBytes(req: IncomingMessage, res: ServerResponse): number {
  return Number(req.headers['content-length'] ?? 0) + Number(res.getHeader('content-length') ?? 0);
}

function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}
