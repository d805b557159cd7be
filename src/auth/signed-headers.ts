/**
 * Which headers a SigV4 signature must cover. A signature binds only the headers it lists, so a
 * header added after signing would otherwise be obeyed as if the signer had sent it: an
 * `x-amz-copy-source` turns a presigned upload into a copy of another object, an `x-amz-acl`
 * makes it public. Like AWS, a request that carries an `x-amz-*` header it did not sign, or did
 * not sign `host`, is refused before anything else looks at it.
 *
 * Other headers (Content-Type, Content-MD5, Cache-Control, conditionals, Range) may go unsigned,
 * as on AWS: browsers add Content-Type to presigned PUTs on their own, and the rest either only
 * narrow what the request may do or are the signer's own choice for an upload they allowed.
 * SigV2 needs no such rule: its string to sign holds every x-amz-* header the request carries.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors/s3-error.js';

export const HEADERS_NOT_SIGNED = 'There were headers present in the request which were not signed';

/**
 * x-amz-* headers the header form binds without listing them: the payload hash is the canonical
 * request's last line and the date the string to sign's second, so a changed value fails the
 * signature anyway.
 */
const BOUND_IN_HEADER_FORM: ReadonlySet<string> = new Set(['x-amz-content-sha256', 'x-amz-date']);

/**
 * In a presigned URL an x-amz-content-sha256 header can only narrow what is accepted (a hash is
 * verified against the body; anything else leaves the body unsigned, as the URL already has it).
 */
const BOUND_IN_PRESIGNED: ReadonlySet<string> = new Set(['x-amz-content-sha256']);

/** Throws AccessDenied (HeadersNotSigned names them, as AWS does) unless host and every x-amz-* header present are signed. */
export function requireSignedHeaders(headers: IncomingHttpHeaders, signedHeaders: readonly string[], form: 'header' | 'presigned'): void {
  const signed = new Set(signedHeaders);
  const bound = form === 'header' ? BOUND_IN_HEADER_FORM : BOUND_IN_PRESIGNED;
  const notSigned = signed.has('host') ? [] : ['host'];
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-') && !signed.has(name) && !bound.has(name)) notSigned.push(name);
  }
  if (notSigned.length > 0) throw new S3Error('AccessDenied', HEADERS_NOT_SIGNED, { HeadersNotSigned: notSigned.sort().join(', ') });
}
