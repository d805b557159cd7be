/**
 * A bucket's lifecycle rules as stored (bucket config 'lifecycle', JSON), and which objects a
 * rule applies to. The S3 layer parses and validates the XML (s3/ops/lifecycle.ts); the sweep
 * (lifecycle.ts) applies the rules.
 */
import type { ObjectMeta } from './types.js';

export const DAY_MS = 24 * 3600 * 1000;

export interface LifecycleFilter {
  prefix?: string;
  tags?: Record<string, string>;
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

export interface LifecycleRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  /** The rule's filter; `legacyPrefix` when given as the rule's own <Prefix> (the old form, echoed back the same way). */
  filter?: LifecycleFilter;
  legacyPrefix?: string;
  /** `and`: the filter was written as <And> (echoed back the same way). */
  and?: boolean;
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { noncurrentDays?: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUploadDays?: number;
}

export function parseStoredRules(json: string | undefined): LifecycleRule[] {
  if (json === undefined) return [];
  try {
    return (JSON.parse(json) as { rules: LifecycleRule[] }).rules;
  } catch {
    return [];
  }
}

export function rulePrefix(rule: LifecycleRule): string {
  return rule.legacyPrefix ?? rule.filter?.prefix ?? '';
}

/** Whether a rule's filter selects this object (key prefix, every tag, size bounds). */
export function ruleMatches(rule: LifecycleRule, meta: Pick<ObjectMeta, 'key' | 'tags' | 'size'>): boolean {
  if (!meta.key.startsWith(rulePrefix(rule))) return false;
  const filter = rule.filter ?? {};
  for (const [name, value] of Object.entries(filter.tags ?? {})) if (meta.tags[name] !== value) return false;
  if (filter.sizeGreaterThan !== undefined && !(meta.size > filter.sizeGreaterThan)) return false;
  if (filter.sizeLessThan !== undefined && !(meta.size < filter.sizeLessThan)) return false;
  return true;
}

/**
 * The latest time a version may date from (its creation, or when it became noncurrent) for
 * `days` to have passed by `now`: S3 counts a rule's days from that time and rounds up to the
 * next midnight UTC, so what is due at `now` dates from the last midnight minus `days`, or earlier.
 */
export function dueCutoff(now: number, days: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;
}

/** When a version dated `from` expires under a `days` rule (for x-amz-expiration). */
export function expiryOf(from: number, days: number): number {
  return Math.ceil((from + days * DAY_MS) / DAY_MS) * DAY_MS;
}

/** What a store does for each kind of expiry, each returning how many versions or uploads it removed. */
export interface LifecycleActions {
  expireCurrent(bucket: string, rule: LifecycleRule, cutoff: number): Promise<number>;
  expireNoncurrent(bucket: string, rule: LifecycleRule, cutoff: number, keep: number): Promise<number>;
  removeLoneMarkers(bucket: string, rule: LifecycleRule): Promise<number>;
  abortUploads(bucket: string, rule: LifecycleRule, cutoff: number): Promise<number>;
}

/** Which expiries one rule asks for at `now`, for both stores' sweeps (lifecycle.ts, postgres/lifecycle.ts). */
export async function applyRule(actions: LifecycleActions, bucket: string, rule: LifecycleRule, now: number): Promise<number> {
  let removed = 0;
  const exp = rule.expiration;
  if (exp?.days !== undefined) removed += await actions.expireCurrent(bucket, rule, dueCutoff(now, exp.days));
  if (exp?.date !== undefined && Date.parse(exp.date) <= now) removed += await actions.expireCurrent(bucket, rule, Number.MAX_SAFE_INTEGER);
  const nc = rule.noncurrentExpiration;
  if (nc?.noncurrentDays !== undefined) removed += await actions.expireNoncurrent(bucket, rule, dueCutoff(now, nc.noncurrentDays), nc.newerNoncurrentVersions ?? 0);
  // A marker with no versions behind it hides nothing: S3 removes it under ExpiredObjectDeleteMarker, and under Days too.
  if (exp?.expiredObjectDeleteMarker || exp?.days !== undefined) removed += await actions.removeLoneMarkers(bucket, rule);
  if (rule.abortIncompleteMultipartUploadDays !== undefined) removed += await actions.abortUploads(bucket, rule, dueCutoff(now, rule.abortIncompleteMultipartUploadDays));
  return removed;
}
