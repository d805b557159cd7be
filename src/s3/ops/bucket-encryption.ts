/** Get/Put/DeleteBucketEncryption: a bucket's default encryption, AES256 (SSE-S3) only. */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { bucketEncryption, unsupportedByStore, type BucketEncryption } from '../sse/write.js';
import { child, children, childText, doc, el, parseXml, text } from '../xml.js';
import { bucketFor, storeCall } from './_common.js';

export const putBucketEncryption: Handler<'PutBucketEncryption'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const root = child(parseXml((await ctx.readBody(16 * 1024)).toString('utf8')), 'ServerSideEncryptionConfiguration');
  const rules = children(root, 'Rule');
  if (!root || rules.length !== 1) throw new S3Error('MalformedXML');
  const byDefault = child(rules[0], 'ApplyServerSideEncryptionByDefault');
  const algorithm = childText(byDefault, 'SSEAlgorithm')?.trim();
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') throw new S3Error('NotImplemented', 'Server-side encryption with KMS keys is not supported by this server; the request was refused rather than stored without it.', { ArgumentName: 'SSEAlgorithm' });
  if (algorithm !== 'AES256') throw new S3Error('MalformedXML', 'SSEAlgorithm must be AES256');
  if (childText(byDefault, 'KMSMasterKeyID') !== undefined) throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms', { ArgumentName: 'ApplyServerSideEncryptionByDefault' });
  if (!ctx.store.supportsEncryption) throw unsupportedByStore();
  if (!ctx.config.masterKey) throw new S3Error('InvalidRequest', 'Server-side encryption (SSE-S3) is not configured on this server: start it with --master-key-file (or OFFLOAD_MASTER_KEY_FILE).');
  const config: BucketEncryption = { algorithm, bucketKeyEnabled: childText(rules[0], 'BucketKeyEnabled')?.trim().toLowerCase() === 'true' };
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'encryption', JSON.stringify(config)));
  return emptyReply(200);
};

export const getBucketEncryption: Handler<'GetBucketEncryption'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const config = bucketEncryption(ctx.store, ctx.op.bucket);
  if (!config) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(doc('ServerSideEncryptionConfiguration', el('Rule', el('ApplyServerSideEncryptionByDefault', text('SSEAlgorithm', config.algorithm)), text('BucketKeyEnabled', config.bucketKeyEnabled))));
};

export const deleteBucketEncryption: Handler<'DeleteBucketEncryption'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'encryption', undefined));
  return emptyReply(204);
};
