/**
 * A bucket's website configuration (as PutBucketWebsite stored it) and the pure decisions the
 * website endpoint makes from it: which rule applies to a key, where a redirect points.
 */
import type { Store } from '../storage/types.js';

export interface RoutingRule {
  condition?: { keyPrefixEquals?: string; httpErrorCodeReturnedEquals?: string };
  redirect: { protocol?: string; hostName?: string; replaceKeyPrefixWith?: string; replaceKeyWith?: string; httpRedirectCode?: string };
}

export interface WebsiteConfig {
  indexDocument?: string;
  errorDocument?: string;
  redirectAllRequestsTo?: { hostName: string; protocol?: string };
  routingRules: RoutingRule[];
}

/** The stored configuration, or undefined when the bucket is no website. */
export function bucketWebsite(store: Store, bucket: string): WebsiteConfig | undefined {
  const stored = store.getBucketConfig(bucket, 'website');
  return stored === undefined ? undefined : (JSON.parse(stored) as WebsiteConfig);
}

/** The rule for `key`: a redirect before reading (`status` undefined) or after an error with that status. */
export function routingRuleFor(site: WebsiteConfig, key: string, status?: number): RoutingRule | undefined {
  return site.routingRules.find((r) => r.condition?.httpErrorCodeReturnedEquals === (status === undefined ? undefined : String(status)) && matchesPrefix(r, key));
}

function matchesPrefix(rule: RoutingRule, key: string): boolean {
  const prefix = rule.condition?.keyPrefixEquals;
  return prefix === undefined || key.startsWith(prefix);
}

/** Where a rule sends `key`; `requestHost` is the Host the request came to. */
/** No Protocol in the rule: the request's own (`requestProtocol`), as S3 does. */
export function redirectLocation(rule: RoutingRule, key: string, requestHost: string | undefined, requestProtocol: 'http' | 'https' = 'http'): string {
  const r = rule.redirect;
  let newKey = key;
  if (r.replaceKeyWith !== undefined) newKey = r.replaceKeyWith;
  else if (r.replaceKeyPrefixWith !== undefined) newKey = r.replaceKeyPrefixWith + key.slice(rule.condition?.keyPrefixEquals?.length ?? 0);
  const host = r.hostName ?? requestHost ?? 'localhost';
  return `${r.protocol ?? requestProtocol}://${host}/${encodePath(newKey)}`;
}

export function encodePath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
