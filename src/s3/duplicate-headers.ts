/**
 * Headers that decide how a request is authenticated or framed must be sent once. Node keeps
 * the first Authorization and joins repeated x-amz-* values with ", ", so a repeat would be
 * silently reinterpreted; a proxy in front may have read the other copy. Refused instead.
 */
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../errors/s3-error.js';

const SINGLE = new Set([
  'authorization', 'host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-decoded-content-length', 'x-amz-security-token',
  'content-md5', 'content-encoding', 'x-amz-trailer', 'x-amz-sdk-checksum-algorithm', 'x-amz-checksum-algorithm',
  'x-amz-copy-source', 'x-amz-copy-source-range', 'range', 'x-amz-expected-bucket-owner', 'x-amz-acl',
]);

export function refuseDuplicateHeaders(req: IncomingMessage): void {
  const seen = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLE.has(name) && !name.startsWith('x-amz-checksum-')) continue;
    if (seen.has(name)) throw new S3Error('InvalidArgument', `The ${name} header may be sent only once`, { ArgumentName: name });
    seen.add(name);
  }
}
