/**
 * Presigned SigV4 URLs carry request headers in the query: the SDK v3 presigner moves every
 * `x-amz-*` header it signs there (`x-amz-acl`, `x-amz-meta-*`, `x-amz-tagging`, ...), and S3
 * applies them as if they had been sent as headers. The query of such a URL is signed, so they are
 * as trustworthy as signed headers; an unsigned header of the same name is refused by auth.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The presigned-URL parameters themselves, never request headers. */
const AUTH_PARAMS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token', 'x-amz-content-sha256']);

/** Checksums in the query of SDK-presigned PUTs describe nothing the server can check (AWS ignores them too). */
function isIgnored(name: string): boolean {
  return AUTH_PARAMS.has(name) || name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm';
}

/** The request's headers with a presigned URL's signed `x-amz-*` parameters added; a header sent as such wins. */
export function withHoistedHeaders(headers: IncomingHttpHeaders, query: URLSearchParams): IncomingHttpHeaders {
  if (!query.has('X-Amz-Signature')) return headers;
  let merged: IncomingHttpHeaders | undefined;
  for (const [rawName, value] of query) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('x-amz-') || isIgnored(name) || headers[name] !== undefined) continue;
    merged ??= { ...headers };
    merged[name] = value;
  }
  return merged ?? headers;
}
