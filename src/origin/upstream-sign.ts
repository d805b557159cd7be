/**
 * SigV4 for the requests Offload makes to an upstream S3 bucket (GET and HEAD, no body), with
 * the upstream's own key pair from the bucket's origin configuration. Path-style addressing, so
 * one endpoint serves every bucket name.
 */
import { createHash } from 'node:crypto';
import { hmac, signingKey } from '../auth/signing-key.js';
import type { UpstreamS3 } from './config.js';

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** RFC 3986 unreserved characters stay; everything else is %XX (what SigV4's canonical URI wants, per segment). */
export function encodeKeyPath(key: string): string {
  return key.split('/').map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

/** The upstream URL of a key, and the headers that sign a request for it (none for anonymous reads). */
export function upstreamRequest(s3: UpstreamS3, key: string, method: 'GET' | 'HEAD', now = new Date()): { url: URL; headers: Record<string, string> } {
  const url = new URL(`${s3.endpoint}/${s3.bucket}/${encodeKeyPath(key)}`);
  if (s3.accessKeyId === undefined || s3.secretAccessKey === undefined) return { url, headers: {} };
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const canonical = [method, url.pathname, '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), EMPTY_SHA256].join('\n');
  const scope = `${day}/${s3.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const signature = hmac(signingKey(s3.secretAccessKey, day, s3.region, 's3'), toSign).toString('hex');
  const { host: _host, ...rest } = headers;
  return { url, headers: { ...rest, authorization: `AWS4-HMAC-SHA256 Credential=${s3.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` } };
}
