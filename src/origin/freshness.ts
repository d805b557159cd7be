/**
 * HTTP caching for a shared cache, RFC 9111, on what an origin answered: whether it may be
 * stored (section 3), how long it is fresh (4.2.1), its age (4.2.3), and the stale windows of
 * RFC 5861 (stale-while-revalidate, stale-if-error). Pure functions: times are passed in.
 */

export type Directives = Map<string, string | true>;

/** Cache-Control (RFC 9111 section 5.2): directive names lower-cased, quoted arguments unquoted. */
export function parseCacheControl(value: string | undefined): Directives {
  const out: Directives = new Map();
  if (value === undefined) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    const arg = eq < 0 ? true : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (!out.has(name)) out.set(name, arg);
  }
  return out;
}

/** A delta-seconds argument (RFC 9111 section 1.2.2), or undefined when absent or malformed. */
function seconds(d: Directives, name: string): number | undefined {
  const v = d.get(name);
  return typeof v === 'string' && /^\d+$/.test(v) ? Math.min(Number(v), 2 ** 31) : undefined;
}

/**
 * Section 3 for a shared cache: no-store (5.2.2.5) and private (5.2.2.7) are never stored.
 * Only a complete 200 is stored here (status code "final and understood", 3 and 3.3).
 */
export function storable(cacheControl: string | undefined): boolean {
  const d = parseCacheControl(cacheControl);
  return !d.has('no-store') && !d.has('private');
}

export interface OriginAnswerTimes {
  cacheControl?: string;
  expires?: string;
  /** The origin's Date header. */
  date?: string;
  /** The origin's Age header. */
  age?: string;
  requestTime: number;
  responseTime: number;
}

/**
 * Freshness lifetime in seconds (4.2.1): s-maxage, then max-age, then Expires minus Date, then
 * the bucket's default TTL in place of a heuristic (4.2.2). no-cache (5.2.2.4) makes it 0: every
 * use revalidates.
 */
export function freshnessLifetime(t: Pick<OriginAnswerTimes, 'cacheControl' | 'expires' | 'date' | 'responseTime'>, defaultTtl: number): number {
  const d = parseCacheControl(t.cacheControl);
  if (d.has('no-cache')) return 0;
  const shared = seconds(d, 's-maxage') ?? seconds(d, 'max-age');
  if (shared !== undefined) return shared;
  if (t.expires !== undefined) {
    const expires = Date.parse(t.expires);
    // An invalid Expires (such as "0") means already expired (5.3).
    if (Number.isNaN(expires)) return 0;
    const date = t.date === undefined ? t.responseTime : Date.parse(t.date);
    return Math.max(0, Math.floor((expires - (Number.isNaN(date) ? t.responseTime : date)) / 1000));
  }
  return defaultTtl;
}

/**
 * The moment the answer's age was 0, from the corrected initial age of 4.2.3:
 * max(apparent_age, Age + response_delay), taken off the response time.
 */
export function effectiveFetchTime(t: OriginAnswerTimes): number {
  const date = t.date === undefined ? NaN : Date.parse(t.date);
  const apparent = Number.isNaN(date) ? 0 : Math.max(0, t.responseTime - date);
  const ageValue = t.age !== undefined && /^\d+$/.test(t.age) ? Number(t.age) * 1000 : 0;
  const corrected = Math.max(apparent, ageValue + (t.responseTime - t.requestTime));
  return t.responseTime - corrected;
}

/** What a stored answer allows now: fresh, or stale and how it may still be used. */
export interface Freshness {
  fresh: boolean;
  /** Whole seconds, for the Age header (5.1). */
  age: number;
  /** Stale, but within stale-while-revalidate: answer it and revalidate in the background (RFC 5861 section 3). */
  whileRevalidate: boolean;
  /** Stale, but within stale-if-error: an origin error may be answered with it (RFC 5861 section 4). */
  ifError: boolean;
}

export function freshness(stored: { fetchedAt: number; lifetime: number; cacheControl?: string }, now: number): Freshness {
  const age = Math.max(0, Math.floor((now - stored.fetchedAt) / 1000));
  const fresh = age < stored.lifetime;
  const d = parseCacheControl(stored.cacheControl);
  // must-revalidate and proxy-revalidate forbid using it stale at all (5.2.2.2, 5.2.2.8).
  const strict = d.has('must-revalidate') || d.has('proxy-revalidate') || d.has('no-cache');
  const staleFor = age - stored.lifetime;
  const swr = seconds(d, 'stale-while-revalidate');
  const sie = seconds(d, 'stale-if-error');
  return {
    fresh,
    age,
    whileRevalidate: !fresh && !strict && swr !== undefined && staleFor < swr,
    ifError: !fresh && !strict && sie !== undefined && staleFor < sie,
  };
}
