/**
 * Copies of encrypted objects: the source's SSE-C key (x-amz-copy-source-server-side-encryption-
 * customer-*) is checked like a GET's, and the copy shares the source's blobs only when it keeps
 * the same encryption (plain, SSE-S3, or SSE-C with the same key); otherwise the bytes are
 * decrypted and encrypted again under the copy's own data keys.
 */
import type { Readable } from 'node:stream';
import type { EncryptionRequest, ObjectMeta, ObjectReader, Store } from '../../storage/types.js';
import { S3Error } from '../../errors/s3-error.js';
import type { RequestContext } from '../context.js';
import { COPY_SOURCE_SSE_C_PREFIX, customerKeyOf, readKeyFor, type CustomerKey } from './headers.js';

export interface CopyEncryption {
  sourceKey?: CustomerKey;
  /** What the copy is to be encrypted with (its headers, else the bucket's default). */
  target: EncryptionRequest | undefined;
  /** The copy can share the source's blobs. */
  shares: boolean;
}

export function copyEncryption(ctx: RequestContext, source: ObjectMeta, target: EncryptionRequest | undefined): CopyEncryption {
  const sourceKey = customerKeyOf(ctx.req, ctx.headers, COPY_SOURCE_SSE_C_PREFIX);
  readKeyFor(source, sourceKey, COPY_SOURCE_SSE_C_PREFIX);
  const shares = sameEncryption(source, target, sourceKey);
  return { sourceKey, target, shares };
}

function sameEncryption(source: ObjectMeta, target: EncryptionRequest | undefined, sourceKey: CustomerKey | undefined): boolean {
  if (!source.sse || !target) return !source.sse && !target;
  if (!source.sse.customer) return !target.customerKey;
  return target.customerKey !== undefined && sourceKey !== undefined && target.customerKey.equals(sourceKey.key);
}

/** Opens the source version `source` names for a re-encrypting copy; NoSuchKey when it changed meanwhile. */
export async function openCopySource(store: Store, source: ObjectMeta, sourceKey: CustomerKey | undefined): Promise<{ reader: ObjectReader; body: Readable }> {
  const reader = await store.openObject(source.bucket, source.key, { versionId: source.versionId, customerKey: sourceKey?.key });
  if (!reader || reader.meta.etag !== source.etag) {
    reader?.close();
    throw new S3Error('NoSuchKey', 'The copy source changed or vanished during the copy');
  }
  return { reader, body: reader.stream() };
}
