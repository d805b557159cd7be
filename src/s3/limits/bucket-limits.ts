/** A bucket's limits and quotas (admin API, `offload bucket limits`), kept as its 'limits' configuration. */
import type { Store } from '../../storage/types.js';

export interface BucketLimits {
  /** Requests per second to the bucket, all callers together. */
  rps?: number;
  /** Anonymous requests per second to the bucket, all anonymous callers together. */
  anonymousRps?: number;
  /** Request and response body bytes per second through the bucket. */
  bandwidth?: number;
  /** Quota: the bucket's stored bytes (sum of object sizes) may not pass this. */
  maxBytes?: number;
  /** Quota: the bucket's object count may not pass this. */
  maxObjects?: number;
  /** Bytes sent per calendar month (UTC) before the budget counts as spent. */
  monthlyTransfer?: number;
  /** What a spent monthly budget does: only warn (log, metrics), or also refuse anonymous reads. */
  overBudget?: 'warn' | 'refuse-anonymous';
}

const FIELDS = ['rps', 'anonymousRps', 'bandwidth', 'maxBytes', 'maxObjects', 'monthlyTransfer'] as const;

const parsed = new Map<string, BucketLimits>();

export function bucketLimits(store: Store, bucket: string): BucketLimits | undefined {
  const raw = store.getBucketConfig(bucket, 'limits');
  if (raw === undefined) return undefined;
  let limits = parsed.get(raw);
  if (limits === undefined) {
    if (parsed.size > 1000) parsed.clear();
    parsed.set(raw, (limits = JSON.parse(raw) as BucketLimits));
  }
  return limits;
}

/** Checks a limits document from the admin API; throws a message naming the bad field. */
export function validateBucketLimits(input: unknown): BucketLimits {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('the limits document must be a JSON object');
  const out: BucketLimits = {};
  for (const [name, value] of Object.entries(input)) {
    if (name === 'overBudget') {
      if (value !== 'warn' && value !== 'refuse-anonymous') throw new Error('overBudget must be "warn" or "refuse-anonymous"');
      out.overBudget = value;
      continue;
    }
    if (!(FIELDS as readonly string[]).includes(name)) throw new Error(`unknown field "${name}" (known: ${[...FIELDS, 'overBudget'].join(', ')})`);
    if (value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
    out[name as (typeof FIELDS)[number]] = value;
  }
  return out;
}
