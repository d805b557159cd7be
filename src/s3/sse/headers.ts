/**
 * The SSE headers of a request, checked as S3 checks them: SSE-S3 (`x-amz-server-side-encryption:
 * AES256`), SSE-C (`x-amz-server-side-encryption-customer-*`, or `x-amz-copy-source-...` for a copy's
 * source), and what GET/HEAD/copy sources need to read an encrypted object.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { S3Error } from '../../errors/s3-error.js';
import { customerKeyFingerprint, customerKeyMatches } from '../../storage/encryption/keys.js';
import type { EncryptionRequest, ObjectMeta } from '../../storage/types.js';
import { header } from '../headers.js';

export const SSE_C_PREFIX = 'x-amz-server-side-encryption-customer-';
export const COPY_SOURCE_SSE_C_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';

export interface CustomerKey {
  key: Buffer;
  keyMd5: string;
}

/** The SSE-C key of a request (under `prefix`), validated; undefined when none was sent. */
export function customerKeyOf(req: IncomingMessage, headers: IncomingHttpHeaders, prefix = SSE_C_PREFIX): CustomerKey | undefined {
  const algorithm = header(headers, `${prefix}algorithm`);
  const rawKey = header(headers, `${prefix}key`);
  const md5 = header(headers, `${prefix}key-md5`);
  if (algorithm === undefined && rawKey === undefined && md5 === undefined) return undefined;
  if (!secureOrLoopback(req)) throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  if (algorithm === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', { ArgumentName: `${prefix}algorithm` });
  if (algorithm.trim() !== 'AES256') throw new S3Error('InvalidEncryptionAlgorithmError', 'The encryption request you specified is not valid. Supported value: AES256.', { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm.slice(0, 64) });
  if (rawKey === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', { ArgumentName: `${prefix}key` });
  const key = Buffer.from(rawKey.trim(), 'base64');
  if (key.length !== 32) throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: `${prefix}key` });
  if (md5 === undefined) throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', { ArgumentName: `${prefix}key-MD5` });
  const actual = createHash('md5').update(key).digest('base64');
  if (actual !== md5.trim()) throw new S3Error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: `${prefix}key-MD5` });
  return { key, keyMd5: actual };
}

/** AWS refuses SSE-C without TLS; here plain HTTP is allowed from loopback (a local proxy that terminates TLS, or tests). */
function secureOrLoopback(req: IncomingMessage): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  const remote = req.socket.remoteAddress ?? '';
  return remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.');
}

/** What reading `meta` needs from this request: the customer key for an SSE-C object (checked), else nothing. */
export function readKeyFor(meta: Pick<ObjectMeta, 'sse'>, given: CustomerKey | undefined, header = SSE_C_PREFIX): Buffer | undefined {
  const stored = meta.sse?.customer;
  if (stored === undefined) {
    if (given) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.', { Header: `${header}algorithm` });
    return undefined;
  }
  if (!given) throw new S3Error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  if (!customerKeyMatches(given.key, stored)) throw new S3Error('InvalidRequest', 'The provided encryption key does not match the key the object was stored with.', { Header: `${header}key` });
  return given.key;
}

export function customerSse(given: CustomerKey): { algorithm: 'AES256'; customer: { keyMd5: string; salt: string; hmac: string } } {
  return { algorithm: 'AES256', customer: { keyMd5: given.keyMd5, ...customerKeyFingerprint(given.key) } };
}

/** The response headers S3 sends for an encrypted object (PUT, GET, HEAD, copy, multipart). */
export function sseResponseHeaders(sse: ObjectMeta['sse']): Record<string, string> {
  if (!sse) return {};
  if (sse.customer) return { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-MD5': sse.customer.keyMd5 };
  return { 'x-amz-server-side-encryption': 'AES256' };
}

/** UploadPart's encryption: the upload's own (given at CreateMultipartUpload), with the same SSE-C key on every part. */
export function partEncryption(req: IncomingMessage, headers: IncomingHttpHeaders, upload: Pick<ObjectMeta, 'sse'>): EncryptionRequest | undefined {
  const customerKey = readKeyFor(upload, customerKeyOf(req, headers));
  return upload.sse && { sse: upload.sse, customerKey };
}
