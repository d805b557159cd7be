/**
 * Per-bucket cache rules: Cache-Control (and optionally Expires) filled in by Content-Type or key
 * glob for objects stored without one. The object's own Cache-Control always wins; an object that
 * no rule matches gets the server's default for its type (DEFAULT_CACHE_CONTROL). Rules are a
 * JSON document kept as the bucket's `cache-rules` configuration; the first matching rule applies.
 *
 *   { "rules": [
 *       { "contentType": ["text/css", "application/javascript", "font/*"], "cacheControl": "public, max-age=31536000, immutable" },
 *       { "key": ["*.html", "**\/index.html"], "cacheControl": "no-cache" } ] }
 */
import picomatch from 'picomatch';
import type { ObjectMeta, Store } from '../storage/types.js';

export interface CacheRule {
  contentType?: string[];
  key?: string[];
  cacheControl: string;
  /** Seconds from the request time, sent as an Expires date. */
  expiresIn?: number;
}

interface CompiledRule {
  rule: CacheRule;
  matches(meta: Pick<ObjectMeta, 'key' | 'contentType'>): boolean;
}

export class CacheRulesError extends Error {}

/** Validates a rules document; throws CacheRulesError naming what is wrong. */
export function parseCacheRules(text: string): CacheRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CacheRulesError('cache rules must be JSON: {"rules": [{"contentType": [...], "key": [...], "cacheControl": "..."}]}');
  }
  const rules = (doc as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) throw new CacheRulesError('cache rules need a "rules" array');
  return rules.map((raw: unknown, i) => {
    const r = raw as Record<string, unknown>;
    const where = `rule ${i + 1}`;
    for (const name of Object.keys(r)) {
      if (!['contentType', 'key', 'cacheControl', 'expiresIn'].includes(name)) throw new CacheRulesError(`${where}: unknown field "${name}"`);
    }
    if (typeof r.cacheControl !== 'string' || r.cacheControl.trim() === '' || /[\r\n]/.test(r.cacheControl)) throw new CacheRulesError(`${where}: "cacheControl" must be a one-line string`);
    const list = (name: 'contentType' | 'key') => {
      const v = r[name];
      if (v === undefined) return undefined;
      const items = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(items) || items.some((x) => typeof x !== 'string' || x === '')) throw new CacheRulesError(`${where}: "${name}" must be a string or a list of strings`);
      return items as string[];
    };
    const rule: CacheRule = { cacheControl: r.cacheControl.trim(), contentType: list('contentType'), key: list('key') };
    if (!rule.contentType && !rule.key) throw new CacheRulesError(`${where}: give "contentType" or "key" (or both)`);
    if (r.expiresIn !== undefined) {
      if (typeof r.expiresIn !== 'number' || !Number.isInteger(r.expiresIn) || r.expiresIn < 0) throw new CacheRulesError(`${where}: "expiresIn" must be a whole number of seconds`);
      rule.expiresIn = r.expiresIn;
    }
    return rule;
  });
}

function compile(rules: CacheRule[]): CompiledRule[] {
  return rules.map((rule) => {
    const type = rule.contentType ? picomatch(rule.contentType.map((t) => t.toLowerCase())) : undefined;
    const key = rule.key ? picomatch(rule.key, { dot: true }) : undefined;
    return {
      rule,
      matches: (meta) => {
        const bareType = (meta.contentType ?? '').split(';')[0]!.trim().toLowerCase();
        return (!type || type(bareType)) && (!key || key(meta.key));
      },
    };
  });
}

const compiled = new Map<string, { text: string; rules: CompiledRule[] }>();
const startupRules = new Map<string, CompiledRule[]>();

/** The rule for an object of this bucket, if any (parsed rules are kept until the stored text changes). */
export function cacheRuleFor(store: Store, meta: Pick<ObjectMeta, 'bucket' | 'key' | 'contentType'>): CacheRule | undefined {
  const text = store.getBucketConfig(meta.bucket, 'cache-rules');
  if (text === undefined) return startupRules.get(meta.bucket)?.find((r) => r.matches(meta))?.rule;
  let hit = compiled.get(meta.bucket);
  if (!hit || hit.text !== text) {
    hit = { text, rules: compile(parseCacheRules(text)) };
    compiled.set(meta.bucket, hit);
  }
  return hit.rules.find((r) => r.matches(meta))?.rule;
}

/**
 * The server's Cache-Control for objects stored without one that no bucket rule matches. Names are
 * not assumed to be content-hashed (a stale year-long cache is worse than a revalidation), and there
 * is no `public`: a response to a request with an Authorization header stays out of shared caches.
 */
export const DEFAULT_CACHE_CONTROL = {
  /** Pages: always revalidated, so a deploy shows at once. */
  html: 'no-cache',
  /** Images, fonts, audio and video: rarely replaced under the same name. */
  media: 'max-age=86400',
  /** CSS, JavaScript, JSON and everything else. */
  text: 'max-age=300',
} as const;

export function defaultCacheControl(contentType: string | undefined): string {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/html' || type === 'application/xhtml+xml') return DEFAULT_CACHE_CONTROL.html;
  if (/^(image|font|audio|video)\//.test(type)) return DEFAULT_CACHE_CONTROL.media;
  return DEFAULT_CACHE_CONTROL.text;
}

/**
 * Response header saying a Cache-Control was filled in by the server (`rule` or `default`), not
 * stored with the object: `offload sync --check-headers` reads it so it never "fixes" a header the
 * object does not have.
 */
export const CACHE_SOURCE_HEADER = 'x-offload-cache-control';

/** Fills Cache-Control/Expires in response headers when the object has none: the bucket's rule, else the default. */
export function applyCacheRules(store: Store, meta: ObjectMeta, headers: Record<string, string | number | undefined>): void {
  if (meta.cacheControl !== undefined) return;
  const rule = cacheRuleFor(store, meta);
  if (!rule) {
    headers['Cache-Control'] = defaultCacheControl(meta.contentType);
    headers[CACHE_SOURCE_HEADER] = 'default';
    return;
  }
  headers['Cache-Control'] = rule.cacheControl;
  headers[CACHE_SOURCE_HEADER] = 'rule';
  if (rule.expiresIn !== undefined && meta.expires === undefined) headers.Expires = new Date(Date.now() + rule.expiresIn * 1000).toUTCString();
}

/** The first of `rules` matching an object (for clients that read a bucket's rules, e.g. sync's shadow note). */
export function firstMatchingRule(rules: CacheRule[], meta: Pick<ObjectMeta, 'key' | 'contentType'>): CacheRule | undefined {
  return compile(rules).find((r) => r.matches(meta))?.rule;
}

/**
 * Loads a start-up rules file, `{ "<bucket>": { "rules": [...] }, ... }`: those rules apply to
 * their buckets (also ones created later) unless the bucket has rules of its own stored.
 */
export function loadCacheRulesFile(text: string, source: string): void {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CacheRulesError(`${source}: not JSON`);
  }
  startupRules.clear();
  for (const [bucket, rules] of Object.entries(doc)) {
    try {
      startupRules.set(bucket, compile(parseCacheRules(JSON.stringify(rules))));
    } catch (err) {
      throw new CacheRulesError(`${source}: bucket ${bucket}: ${(err as Error).message}`);
    }
  }
}
