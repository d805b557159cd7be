/** What encryption a write asks for: its own headers first, else the bucket's default encryption. */
import { S3Error } from '../../errors/s3-error.js';
import { NO_MASTER_KEY } from '../../storage/encryption/sealer.js';
import type { EncryptionRequest, Store } from '../../storage/types.js';
import type { RequestContext } from '../context.js';
import { header } from '../headers.js';
import { customerKeyOf, customerSse } from './headers.js';

/** The bucket's default (PutBucketEncryption), stored as JSON; only AES256 is accepted. */
export interface BucketEncryption {
  algorithm: 'AES256';
  bucketKeyEnabled: boolean;
}

export function bucketEncryption(store: Store, bucket: string): BucketEncryption | undefined {
  const raw = store.getBucketConfig(bucket, 'encryption');
  return raw === undefined ? undefined : (JSON.parse(raw) as BucketEncryption);
}

export function requestedEncryption(ctx: RequestContext, bucket: string): EncryptionRequest | undefined {
  const customer = customerKeyOf(ctx.req, ctx.headers);
  const sse = header(ctx.headers, 'x-amz-server-side-encryption')?.trim();
  if ((customer || sse !== undefined || bucketEncryption(ctx.store, bucket) !== undefined) && !ctx.store.supportsEncryption) throw unsupportedByStore();
  if (customer) {
    if (sse !== undefined) throw new S3Error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse.slice(0, 64) });
    return { sse: customerSse(customer), customerKey: customer.key };
  }
  if (sse === undefined && bucketEncryption(ctx.store, bucket) === undefined) return undefined;
  if (!ctx.config.masterKey) throw new S3Error('InvalidRequest', NO_MASTER_KEY);
  return { sse: { algorithm: 'AES256' } };
}

/** A Store without encryption at rest (both the embedded engine and PostgreSQL metadata have it; a test double may not). */
export function unsupportedByStore(): S3Error {
  return new S3Error('NotImplemented', 'Server-side encryption is not available on this server\'s storage: objects would be stored unencrypted.');
}
