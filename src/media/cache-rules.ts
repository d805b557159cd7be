/**
 * Per-bucket cache rules: Cache-Control (and optionally Expires) filled in by Content-Type or key
 * glob for objects stored without one. The object's own Cache-Control always wins. Rules are a
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

/** Fills Cache-Control/Expires in response headers from the bucket's rules when the object has none. */
export function applyCacheRules(store: Store, meta: ObjectMeta, headers: Record<string, string | number | undefined>): void {
  if (meta.cacheControl !== undefined) return;
  const rule = cacheRuleFor(store, meta);
  if (!rule) return;
  headers['Cache-Control'] = rule.cacheControl;
  if (rule.expiresIn !== undefined && meta.expires === undefined) headers.Expires = new Date(Date.now() + rule.expiresIn * 1000).toUTCString();
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
