/** RFC 9111 freshness as origin/freshness.ts computes it: storability, lifetime, age, stale windows. */
import { describe, expect, it } from 'vitest';
import { effectiveFetchTime, freshness, freshnessLifetime, parseCacheControl, storable } from '../../src/origin/freshness.js';

const T = Date.parse('2026-01-01T00:00:00Z');
const at = (cacheControl?: string, expires?: string, date?: string) => ({ cacheControl, expires, date, responseTime: T });

describe('RFC 9111', () => {
  it('parses directives case-insensitively, with quoted arguments, first one wins', () => {
    const d = parseCacheControl('Max-Age="60", public, max-age=5, no-cache="Set-Cookie"');
    expect(d.get('max-age')).toBe('60');
    expect(d.get('public')).toBe(true);
    expect(d.get('no-cache')).toBe('Set-Cookie');
  });

  it('does not store no-store or private answers (3, 5.2.2.5, 5.2.2.7)', () => {
    expect(storable('no-store')).toBe(false);
    expect(storable('private, max-age=60')).toBe(false);
    expect(storable('public, max-age=60')).toBe(true);
    expect(storable(undefined)).toBe(true);
  });

  it('takes s-maxage over max-age over Expires minus Date over the default TTL (4.2.1)', () => {
    expect(freshnessLifetime(at('max-age=60, s-maxage=600'), 5)).toBe(600);
    expect(freshnessLifetime(at('max-age=60'), 5)).toBe(60);
    expect(freshnessLifetime(at(undefined, 'Thu, 01 Jan 2026 01:00:00 GMT', 'Thu, 01 Jan 2026 00:00:00 GMT'), 5)).toBe(3600);
    expect(freshnessLifetime(at(undefined, '0'), 5)).toBe(0);
    expect(freshnessLifetime(at('public'), 5)).toBe(5);
    expect(freshnessLifetime(at('max-age=60, no-cache'), 5)).toBe(0);
    expect(freshnessLifetime(at('max-age=abc'), 5)).toBe(5);
  });

  it('counts the corrected initial age from Age and the response delay (4.2.3)', () => {
    expect(effectiveFetchTime({ requestTime: T - 200, responseTime: T, age: '10' })).toBe(T - 10_200);
    expect(effectiveFetchTime({ requestTime: T, responseTime: T, date: new Date(T - 30_000).toUTCString() })).toBe(T - 30_000);
  });

  it('is fresh within its lifetime; stale windows follow RFC 5861 unless must-revalidate', () => {
    const stored = { fetchedAt: T, lifetime: 60, cacheControl: 'max-age=60, stale-while-revalidate=30, stale-if-error=300' };
    expect(freshness(stored, T + 59_000)).toMatchObject({ fresh: true, age: 59 });
    expect(freshness(stored, T + 61_000)).toMatchObject({ fresh: false, whileRevalidate: true, ifError: true });
    expect(freshness(stored, T + 100_000)).toMatchObject({ fresh: false, whileRevalidate: false, ifError: true });
    expect(freshness(stored, T + 400_000)).toMatchObject({ whileRevalidate: false, ifError: false });
    expect(freshness({ ...stored, cacheControl: `${stored.cacheControl}, must-revalidate` }, T + 61_000)).toMatchObject({ whileRevalidate: false, ifError: false });
  });
});
