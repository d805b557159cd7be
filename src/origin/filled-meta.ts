/**
 * How a filled object is marked: user metadata (x-amz-meta-offload-origin-*) with what the
 * origin said, so it can be revalidated, evicted or purged later. Objects without the mark are
 * the users' own uploads: never evicted or purged, always answered as they are.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectHeaders, ObjectMeta } from '../storage/types.js';
import { effectiveFetchTime, freshnessLifetime, type OriginAnswerTimes } from './freshness.js';

const FETCHED = 'offload-origin-fetched';
const LIFETIME = 'offload-origin-ttl';
const ETAG = 'offload-origin-etag';
const LAST_MODIFIED = 'offload-origin-last-modified';
const CACHE_CONTROL = 'offload-origin-cache-control';

export interface FilledMark {
  /** When the answer's age was 0 (ms). */
  fetchedAt: number;
  /** Freshness lifetime in seconds, computed when it was fetched or revalidated. */
  lifetime: number;
  etag?: string;
  lastModified?: string;
  cacheControl?: string;
}

export function filledMark(meta: ObjectMeta): FilledMark | undefined {
  const m = meta.userMeta;
  const fetchedAt = Number(m[FETCHED]);
  if (m[FETCHED] === undefined || !Number.isFinite(fetchedAt)) return undefined;
  return { fetchedAt, lifetime: Number(m[LIFETIME]) || 0, etag: m[ETAG], lastModified: m[LAST_MODIFIED], cacheControl: m[CACHE_CONTROL] };
}

const one = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

export function answerTimes(headers: IncomingHttpHeaders, requestTime: number, responseTime: number): OriginAnswerTimes {
  return { cacheControl: one(headers, 'cache-control'), expires: one(headers, 'expires'), date: one(headers, 'date'), age: one(headers, 'age'), requestTime, responseTime };
}

/** The user-metadata entries that mark an object as filled from this origin answer. */
export function markEntries(headers: IncomingHttpHeaders, times: OriginAnswerTimes, defaultTtl: number, previous?: FilledMark): Record<string, string> {
  const out: Record<string, string> = {
    [FETCHED]: String(effectiveFetchTime(times)),
    [LIFETIME]: String(freshnessLifetime(times, defaultTtl)),
  };
  // A 304 may leave out validators it does not change (RFC 9111 section 4.3.4): keep the earlier ones.
  const etag = one(headers, 'etag') ?? previous?.etag;
  const lastModified = one(headers, 'last-modified') ?? previous?.lastModified;
  const cacheControl = times.cacheControl ?? previous?.cacheControl;
  if (etag !== undefined) out[ETAG] = etag;
  if (lastModified !== undefined) out[LAST_MODIFIED] = lastModified;
  if (cacheControl !== undefined) out[CACHE_CONTROL] = cacheControl;
  return out;
}

/** The headers stored with a filled object: what the origin said about its representation. */
export function storedHeaders(headers: IncomingHttpHeaders, mark: Record<string, string>): ObjectHeaders {
  return {
    contentType: one(headers, 'content-type') ?? 'application/octet-stream',
    contentEncoding: one(headers, 'content-encoding'),
    contentDisposition: one(headers, 'content-disposition'),
    contentLanguage: one(headers, 'content-language'),
    cacheControl: one(headers, 'cache-control'),
    expires: one(headers, 'expires'),
    userMeta: mark,
  };
}

/** The headers a miss answers with while the body streams through (the store's own come on hits). */
export function passThroughHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'content-length', 'content-range', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires', 'last-modified', 'etag', 'accept-ranges']) {
    const v = one(headers, name);
    if (v !== undefined) out[HEADER_CASE[name] ?? name] = v;
  }
  return out;
}

const HEADER_CASE: Record<string, string> = {
  'content-type': 'Content-Type', 'content-length': 'Content-Length', 'content-range': 'Content-Range', 'content-encoding': 'Content-Encoding',
  'content-disposition': 'Content-Disposition', 'content-language': 'Content-Language', 'cache-control': 'Cache-Control', expires: 'Expires',
  'last-modified': 'Last-Modified', etag: 'ETag', 'accept-ranges': 'Accept-Ranges',
};
