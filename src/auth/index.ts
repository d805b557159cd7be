/**
 * Request authentication: which signature scheme the request uses, whether it verifies, and
 * what it promises about the body. Anonymous requests are not an error here; access checks
 * decide what an anonymous caller may do.
 */
import { S3Error } from '../errors/s3-error.js';
import type { AuthInput, AuthOptions, AuthResult } from './types.js';
import { queryPairs } from './encoding.js';
import { payloadMode, verifyHeaderV4, verifyPresignedV4 } from './sigv4.js';
import { verifyHeaderV2, verifyPresignedV2 } from './sigv2.js';
import { first } from './request.js';

export { decodeBody, checksumRequestFromHeaders, onBodyWanted, verifyContentMd5 } from './body.js';

export function authenticate(input: AuthInput, opts: AuthOptions): AuthResult {
  const authorization = first(input.headers.authorization);
  if (authorization !== undefined && authorization !== '') {
    if (authorization.startsWith('AWS4-HMAC-SHA256')) return verifyHeaderV4(input, opts, authorization);
    if (authorization.startsWith('AWS ')) return verifyHeaderV2(input, opts, authorization);
    if (authorization.startsWith('AWS4-ECDSA-P256-SHA256')) throw new S3Error('NotImplemented', 'Signature Version 4A is not supported');
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: authorization.split(' ')[0] ?? '' });
  }
  if (input.rawQuery !== '') {
    const pairs = queryPairs(input.rawQuery);
    const params = new Map(pairs);
    if (params.has('X-Amz-Algorithm') || params.has('X-Amz-Credential') || params.has('X-Amz-Signature')) return verifyPresignedV4(input, opts, pairs);
    if (params.has('AWSAccessKeyId') || params.has('Signature')) {
      if (!params.has('AWSAccessKeyId') || !params.has('Signature') || !params.has('Expires')) {
        throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
      }
      return verifyPresignedV2(input, opts, params);
    }
  }
  const contentSha = first(input.headers['x-amz-content-sha256']);
  // An anonymous client may still stream aws-chunked with a trailing checksum, or promise a hash.
  const payload = contentSha === undefined ? { kind: 'unsigned' as const } : payloadMode(contentSha);
  return { principal: { kind: 'anonymous' }, payload };
}
