/**
 * AWS Signature Version 4, in the Authorization header or presigned in the query string.
 * The region in the credential scope is taken as given (clients disagree on what to send to
 * a custom endpoint); the signature itself proves the client used that scope.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../errors/s3-error.js';
import type { AuthInput, AuthOptions, AuthResult, PayloadMode } from './types.js';
import { canonicalPaths, canonicalQuery, queryPairs } from './encoding.js';
import { hmac, signingKey } from './signing-key.js';
import { first, requireCredential } from './request.js';
import { requireSignedHeaders } from './signed-headers.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
export const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export function verifyHeaderV4(input: AuthInput, opts: AuthOptions, authorization: string): AuthResult {
  const fields = parseAuthorization(authorization);
  const scope = parseCredential(fields.Credential, 'AuthorizationHeaderMalformed');
  const signedHeaders = fields.SignedHeaders!.split(';');
  const credential = requireCredential(opts, scope.accessKeyId);
  const amzDate = first(input.headers['x-amz-date']) ?? first(input.headers['date']);
  if (amzDate === undefined) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const time = parseAmzDate(amzDate);
  if (time === undefined) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const now = opts.now ?? Date.now();
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, { RequestTime: amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) });
  }
  if (!amzDate.startsWith(scope.date)) throw new S3Error('SignatureDoesNotMatch', 'The date in the credential scope does not match the request date.');
  const contentSha = first(input.headers['x-amz-content-sha256']);
  if (contentSha === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  requireSignedHeaders(input.headers, signedHeaders, 'header');
  const key = signingKey(credential.secretAccessKey, scope.date, scope.region, scope.service);
  const scopeString = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const pairs = queryPairs(input.rawQuery);
  checkSignature(input, { pairs, signedHeaders, payloadHash: contentSha, amzDate, scopeString, key, signature: fields.Signature! });
  const payload = payloadMode(contentSha, { signature: fields.Signature!, key, amzDate, scope: scopeString });
  return { principal: { kind: 'user', credential, signatureVersion: 4, presigned: false }, payload };
}

export function verifyPresignedV4(input: AuthInput, opts: AuthOptions, pairs: [string, string][]): AuthResult {
  const params = new Map(pairs);
  const algorithm = params.get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const required = ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];
  for (const name of required) {
    if (!params.has(name)) throw new S3Error('AuthorizationQueryParametersError', `Query-string authentication version 4 requires the ${required.join(', ')} parameters.`);
  }
  const scope = parseCredential(params.get('X-Amz-Credential')!, 'AuthorizationQueryParametersError');
  const amzDate = params.get('X-Amz-Date')!;
  const time = parseAmzDate(amzDate);
  if (time === undefined) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  const expires = Number(params.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 0) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  if (expires > MAX_PRESIGN_SECONDS) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  const credential = requireCredential(opts, scope.accessKeyId);
  const now = opts.now ?? Date.now();
  if (time - now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  if (now > time + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired', { 'X-Amz-Expires': String(expires), Expires: new Date(time + expires * 1000).toISOString(), ServerTime: new Date(now).toISOString() });
  const signedHeaders = params.get('X-Amz-SignedHeaders')!.split(';');
  requireSignedHeaders(input.headers, signedHeaders, 'presigned');
  const key = signingKey(credential.secretAccessKey, scope.date, scope.region, scope.service);
  const scopeString = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const payloadHash = params.get('X-Amz-Content-Sha256') ?? first(input.headers['x-amz-content-sha256']) ?? 'UNSIGNED-PAYLOAD';
  checkSignature(input, {
    pairs: pairs.filter(([k]) => k !== 'X-Amz-Signature'),
    signedHeaders,
    payloadHash: params.has('X-Amz-Content-Sha256') ? payloadHash : 'UNSIGNED-PAYLOAD',
    amzDate,
    scopeString,
    key,
    signature: params.get('X-Amz-Signature')!,
  });
  // A presigned URL promises nothing about the body unless a hash was signed into it.
  const payload: PayloadMode = /^[0-9a-f]{64}$/.test(payloadHash) ? { kind: 'sha256', expectedHex: payloadHash } : { kind: 'unsigned' };
  return { principal: { kind: 'user', credential, signatureVersion: 4, presigned: true }, payload };
}

/** What x-amz-content-sha256 promises about the body, for requests that are not presigned. */
export function payloadMode(contentSha: string, signed?: { signature: string; key: Buffer; amzDate: string; scope: string }): PayloadMode {
  switch (contentSha) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'chunked', signed: false, trailer: true };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      if (!signed) throw new S3Error('InvalidRequest', `${contentSha} requires a signed request`);
      return { kind: 'chunked', signed: true, trailer: contentSha.endsWith('TRAILER'), seedSignature: signed.signature, signingKey: signed.key, amzDate: signed.amzDate, scope: signed.scope };
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      throw new S3Error('NotImplemented', 'Signature Version 4A is not supported');
  }
  if (/^[0-9a-fA-F]{64}$/.test(contentSha)) return { kind: 'sha256', expectedHex: contentSha.toLowerCase() };
  throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], or a valid sha256 value.', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha });
}

function checkSignature(
  input: AuthInput,
  p: { pairs: [string, string][]; signedHeaders: string[]; payloadHash: string; amzDate: string; scopeString: string; key: Buffer; signature: string },
): void {
  const headers = canonicalHeaders(input, p.signedHeaders);
  const query = canonicalQuery(p.pairs);
  let lastRequest = '';
  let lastStringToSign = '';
  for (const path of canonicalPaths(input.rawPath)) {
    const request = [input.method, path, query, headers, p.signedHeaders.join(';'), p.payloadHash].join('\n');
    // Node hands header values (and the raw path) over as latin1-decoded bytes; hashing them as
    // latin1 signs exactly the bytes the client sent, UTF-8 metadata included.
    const stringToSign = [ALGORITHM, p.amzDate, p.scopeString, sha256Hex(Buffer.from(request, 'latin1'))].join('\n');
    const expected = hmac(p.key, stringToSign).toString('hex');
    if (safeEqual(expected, p.signature)) return;
    lastRequest = request;
    lastStringToSign = stringToSign;
  }
  throw new S3Error('SignatureDoesNotMatch', undefined, {
    StringToSign: lastStringToSign,
    CanonicalRequest: lastRequest,
  });
}

function canonicalHeaders(input: AuthInput, names: string[]): string {
  let out = '';
  for (const name of names) {
    // A signed header the request does not carry counts as empty, as on AWS (some clients list
    // one they never send); dropping a header that was signed with a value fails the signature.
    const raw = input.headers[name];
    const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
    out += `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
  }
  return out;
}

function parseAuthorization(authorization: string): Record<string, string> {
  const body = authorization.slice(ALGORITHM.length).trim();
  const fields: Record<string, string> = {};
  for (const part of body.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) {
    throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.');
  }
  return fields;
}

function parseCredential(value: string | undefined, code: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError'): Scope {
  const parts = (value ?? '').split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!) || parts[0] === '') {
    throw new S3Error(code, `The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  return { accessKeyId: parts[0]!, date: parts[1]!, region: parts[2]!, service: parts[3]! };
}

/** `20130524T000000Z`; also an HTTP date, which some clients put in `Date` instead. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return undefined;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
