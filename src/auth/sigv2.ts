/**
 * AWS Signature Version 2 (HMAC-SHA1), header and query forms. Still what s3cmd
 * `--signature-v2` and older tools send.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../errors/s3-error.js';
import type { AuthInput, AuthOptions, AuthResult, Credential } from './types.js';
import { safeDecode } from './encoding.js';
import { MAX_SKEW_MS } from './sigv4.js';
import { first, requireCredential } from './request.js';

/** The sub-resources that belong in the canonical resource, per the SigV2 documentation. */
const SUBRESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId',
  'versioning', 'versions', 'website', 'policyStatus', 'encryption', 'replication', 'ownershipControls', 'publicAccessBlock',
]);

export function verifyHeaderV2(input: AuthInput, opts: AuthOptions, authorization: string): AuthResult {
  const m = /^AWS ([^:\s]+):(\S+)$/.exec(authorization.trim());
  if (!m) throw new S3Error('InvalidArgument', 'AWS authorization header is invalid. Expected AwsAccessKeyId:signature', { ArgumentName: 'Authorization', ArgumentValue: authorization });
  const credential = requireCredential(opts, m[1]!);
  const date = first(input.headers['x-amz-date']) ?? first(input.headers['date']);
  const time = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const now = opts.now ?? Date.now();
  if (Math.abs(now - time) > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed', undefined, { RequestTime: date!, ServerTime: new Date(now).toUTCString() });
  // With x-amz-date present, the Date line is empty: the date is signed among the x-amz headers.
  const dateLine = first(input.headers['x-amz-date']) !== undefined ? '' : (first(input.headers['date']) ?? '');
  check(input, credential, dateLine, m[2]!);
  return { principal: { kind: 'user', credential, signatureVersion: 2, presigned: false }, payload: { kind: 'unsigned' } };
}

export function verifyPresignedV2(input: AuthInput, opts: AuthOptions, params: Map<string, string>): AuthResult {
  const credential = requireCredential(opts, params.get('AWSAccessKeyId')!);
  const expires = Number(params.get('Expires'));
  if (!Number.isInteger(expires)) throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  if ((opts.now ?? Date.now()) > expires * 1000) throw new S3Error('AccessDenied', 'Request has expired', { Expires: new Date(expires * 1000).toISOString() });
  check(input, credential, String(expires), params.get('Signature') ?? '');
  return { principal: { kind: 'user', credential, signatureVersion: 2, presigned: true }, payload: { kind: 'unsigned' } };
}

function check(input: AuthInput, credential: Credential, dateLine: string, signature: string): void {
  const resource = canonicalResource(input);
  // botocore signs a bucket-level request as `/bucket/` while sending `/bucket`.
  const resources = /^\/[^/?]+(\?|$)/.test(resource) ? [resource, resource.replace(/^(\/[^/?]+)/, '$1/')] : [resource];
  let stringToSign = '';
  for (const candidate of resources) {
    // Header values arrive as latin1-decoded bytes; the resource is text: sign the bytes as sent.
    const head = [input.method, first(input.headers['content-md5']) ?? '', first(input.headers['content-type']) ?? '', dateLine, amzHeaders(input)].join('\n');
    stringToSign = `${head}${candidate}`;
    const expected = createHmac('sha1', credential.secretAccessKey).update(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(candidate, 'utf8')])).digest('base64');
    const a = Buffer.from(expected);
    const b = Buffer.from(signature);
    if (a.length === b.length && timingSafeEqual(a, b)) return;
  }
  throw new S3Error('SignatureDoesNotMatch', undefined, { StringToSign: stringToSign, SignatureProvided: signature });
}

function amzHeaders(input: AuthInput): string {
  const names = Object.keys(input.headers).filter((n) => n.startsWith('x-amz-')).sort();
  return names
    .map((n) => {
      const v = input.headers[n];
      const value = Array.isArray(v) ? v.map((x) => x.trim()).join(',') : (v ?? '').trim();
      return `${n}:${value.replace(/\s+/g, ' ')}\n`;
    })
    .join('');
}

function canonicalResource(input: AuthInput): string {
  const base = (input.virtualHostBucket !== undefined ? `/${input.virtualHostBucket}` : '') + input.rawPath;
  const subs = input.rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? [safeDecode(pair), undefined] as const : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))] as const;
    })
    .filter(([k]) => SUBRESOURCES.has(k))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => (v === undefined || v === '' ? k : `${k}=${v}`));
  return subs.length ? `${base}?${subs.join('&')}` : base;
}
