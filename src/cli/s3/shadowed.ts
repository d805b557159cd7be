/**
 * The note `offload sync` prints when files it uploads carry a Cache-Control of their own that
 * differs from the bucket's cache rules (an explicit object header always wins over a rule, so the
 * rule would silently do nothing for them). Rules are read from an Offload server's admin API;
 * other services, or keys that may not read them, simply get no note.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { signedRequest } from '../admin-client.js';
import { firstMatchingRule, type CacheRule } from '../../media/cache-rules.js';
import { typeByName } from './content-type.js';
import { keyFor } from './keys.js';
import type { SyncSettings } from './plan.js';
import { cacheControlFor } from './rules.js';

export interface Shadowed {
  count: number;
  example?: { rel: string; own: string; rule: string };
}

/** The bucket's cache rules on an Offload server, or undefined when they cannot be read. */
export async function bucketCacheRules(client: S3Client, endpoint: string | undefined, bucket: string): Promise<CacheRule[] | undefined> {
  if (!endpoint) return undefined;
  try {
    const credentials = await client.config.credentials();
    const region = await client.config.region();
    const res = await signedRequest(
      { endpoint, region, accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      'GET',
      `/_offload/buckets/${encodeURIComponent(bucket)}/cache-rules`,
    );
    if (!res.ok) return undefined;
    const body = (await res.json()) as { rules?: CacheRule[] };
    return Array.isArray(body.rules) ? body.rules : undefined;
  } catch {
    return undefined;
  }
}

/** Files whose stored Cache-Control (explicit, or immutable for a hashed name) differs from the rule matching them. */
export function shadowedFiles(files: { rel: string }[], prefix: string, rules: CacheRule[], settings: SyncSettings): Shadowed {
  const out: Shadowed = { count: 0 };
  if (rules.length === 0) return out;
  for (const f of files) {
    const own = cacheControlFor(settings.rules, f.rel);
    if (own === undefined) continue;
    const contentType = settings.rules.contentType.valueFor(f.rel) ?? typeByName(f.rel);
    const rule = firstMatchingRule(rules, { key: keyFor(prefix, f.rel), contentType });
    if (!rule || rule.cacheControl === own) continue;
    out.count++;
    out.example ??= { rel: f.rel, own, rule: rule.cacheControl };
  }
  return out;
}

export function shadowNote(s: Shadowed): string | undefined {
  if (s.count === 0 || !s.example) return undefined;
  const { rel, own, rule } = s.example;
  return `${s.count} file(s) keep their own Cache-Control over the bucket's cache rules (${rel}: '${own}' instead of the rule's '${rule}'${s.count > 1 ? ', ...' : ''}); store none with --cache-control 'GLOB=' to let the rule answer`;
}
