/** Bucket policy: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. */
import { publicAccessBlock } from '../access/public-access-controls.js';
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { doc, text } from '../xml.js';
import { isPublicPolicy, parsePolicy } from '../access/bucket-policy.js';
import { bucketPolicy } from '../access/policy-cache.js';
import { bucketFor, storeCall } from './_common.js';

const MAX_POLICY_BYTES = 20 * 1024;

export const putBucketPolicy: Handler<'PutBucketPolicy'> = async (ctx) => {
  bucketFor(ctx, 'WRITE_ACP', true);
  const body = (await ctx.readBody(MAX_POLICY_BYTES)).toString('utf8');
  const policy = parsePolicy(body, ctx.op.bucket);
  if (publicAccessBlock(ctx.store, ctx.op.bucket)?.BlockPublicPolicy && isPublicPolicy(policy)) {
    throw new S3Error('AccessDenied', "Access Denied: the bucket's public access block refuses public policies");
  }
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'policy', body));
  return emptyReply(204);
};

export const getBucketPolicy: Handler<'GetBucketPolicy'> = async (ctx) => {
  bucketFor(ctx, 'READ_ACP', true);
  const policy = ctx.store.getBucketConfig(ctx.op.bucket, 'policy');
  if (policy === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.op.bucket });
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: policy };
};

export const deleteBucketPolicy: Handler<'DeleteBucketPolicy'> = async (ctx) => {
  bucketFor(ctx, 'WRITE_ACP', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'policy', undefined));
  return emptyReply(204);
};

export const getBucketPolicyStatus: Handler<'GetBucketPolicyStatus'> = async (ctx) => {
  bucketFor(ctx, 'READ_ACP', true);
  const policy = bucketPolicy(ctx.store, ctx.op.bucket);
  if (!policy) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(doc('PolicyStatus', text('IsPublic', isPublicPolicy(policy))));
};

