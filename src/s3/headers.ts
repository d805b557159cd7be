/** Object headers in (from a PUT) and out (on GET/HEAD), and the HTTP date format. */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import type { ObjectHeaders, ObjectMeta } from '../storage/types.js';

/** RFC 7231 IMF-fixdate, as in Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

const USER_META_LIMIT = 2048;
const REDIRECT_LIMIT = 2048;

/** What Node (and HTTP) accept in a header value: no CR, LF, NUL or other controls, nothing past U+00FF. */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** Whether Node can write the value as a header. */
export function isHeaderSafe(value: string): boolean {
  return !INVALID_VALUE_CHAR.test(value);
}

/**
 * A value that will be sent back as a response header must be one Node can write: refused
 * here with InvalidArgument, rather than stored and turned into a 500 on every later GET.
 */
export function validHeaderValue(name: string, value: string): string {
  if (INVALID_VALUE_CHAR.test(value)) throw new S3Error('InvalidArgument', `Header value for ${name.slice(0, 64)} contains characters not allowed in HTTP headers`, { ArgumentName: name.slice(0, 64) });
  return value;
}

/** `x-amz-website-redirect-location`: only `/...`, `http://...` or `https://...` (S3's rule), at most 2 KB. */
export function isSafeRedirectLocation(value: string): boolean {
  return (value.startsWith('/') || value.startsWith('http://') || value.startsWith('https://')) && Buffer.byteLength(value) <= REDIRECT_LIMIT && !INVALID_VALUE_CHAR.test(value);
}

export function validRedirectLocation(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isSafeRedirectLocation(value)) throw new S3Error('InvalidRedirectLocation', undefined, { ArgumentName: 'x-amz-website-redirect-location' });
  return value;
}

/** The stored headers a PUT (or CreateMultipartUpload, or a REPLACE copy, or a POST form) carries. */
export function objectHeadersFromRequest(headers: IncomingHttpHeaders): ObjectHeaders {
  const userMeta: Record<string, string> = {};
  let metaSize = 0;
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || raw === undefined) continue;
    const metaName = name.slice('x-amz-meta-'.length);
    const value = validHeaderValue(name, Array.isArray(raw) ? raw.join(',') : raw);
    // POST form field names are not HTTP-parsed: a space or colon would make an unwritable header.
    if (!TOKEN.test(metaName)) throw new S3Error('InvalidArgument', 'Invalid metadata name', { ArgumentName: name.slice(0, 64) });
    userMeta[metaName] = value;
    metaSize += Buffer.byteLength(metaName) + Buffer.byteLength(value);
  }
  if (metaSize > USER_META_LIMIT) {
    throw new S3Error('MetadataTooLarge', undefined, { Size: String(metaSize), MaxSizeAllowed: String(USER_META_LIMIT) });
  }
  const stored = (name: string) => {
    const value = header(headers, name);
    return value === undefined ? undefined : validHeaderValue(name, value);
  };
  return {
    contentType: stored('content-type'),
    contentEncoding: stripAwsChunked(stored('content-encoding')),
    contentDisposition: stored('content-disposition'),
    contentLanguage: stored('content-language'),
    cacheControl: stored('cache-control'),
    expires: stored('expires'),
    websiteRedirectLocation: validRedirectLocation(header(headers, 'x-amz-website-redirect-location')),
    userMeta,
  };
}

/** `aws-chunked` is transfer framing, not a stored encoding (S3 drops it). */
function stripAwsChunked(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const kept = value.split(',').map((v) => v.trim()).filter((v) => v !== '' && v.toLowerCase() !== 'aws-chunked');
  return kept.length ? kept.join(', ') : undefined;
}

/** Response headers for GET/HEAD of an object (without Content-Length/Range, which depend on the request). */
export function objectResponseHeaders(meta: ObjectMeta): Record<string, string | number | undefined> {
  // Metadata objects are shared and immutable while cached (storage/engine.ts), so the headers
  // built for one are kept with it; callers get a copy they may change.
  let built = builtHeaders.get(meta);
  if (built === undefined) {
    built = buildObjectHeaders(meta);
    builtHeaders.set(meta, built);
  }
  return { ...built };
}

const builtHeaders = new WeakMap<ObjectMeta, Record<string, string | number>>();

function buildObjectHeaders(meta: ObjectMeta): Record<string, string | number> {
  const out: Record<string, string | number | undefined> = {
    'Content-Type': meta.contentType ?? 'binary/octet-stream',
    ETag: meta.etag,
    'Last-Modified': httpDate(meta.lastModified),
    'Accept-Ranges': 'bytes',
    'Content-Encoding': meta.contentEncoding,
    'Content-Disposition': meta.contentDisposition,
    'Content-Language': meta.contentLanguage,
    'Cache-Control': meta.cacheControl,
    Expires: meta.expires,
    'x-amz-website-redirect-location': meta.websiteRedirectLocation,
  };
  for (const [name, value] of Object.entries(meta.userMeta)) out[`x-amz-meta-${name}`] = value;
  const tagCount = Object.keys(meta.tags).length;
  if (tagCount > 0) out['x-amz-tagging-count'] = tagCount;
  for (const name of Object.keys(out)) if (out[name] === undefined) delete out[name];
  return out as Record<string, string | number>;
}

/** Parses S3's tag-set query string form (`x-amz-tagging: a=1&b=2`). */
export function tagsFromHeader(value: string | undefined): Record<string, string> {
  if (value === undefined || value === '') return {};
  const tags: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(value)) {
    if (k in tags) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    tags[k] = v;
  }
  validateTags(tags);
  return tags;
}

export function validateTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > 10) throw new S3Error('InvalidTag', 'Object tags cannot be greater than 10');
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if (v.length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
  }
}
