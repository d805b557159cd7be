/**
 * Put/GetBucketLogging: S3's BucketLoggingStatus document. Enabling it switches on the access log
 * in S3's server-access-log format; Offload writes it to DATA/logs/<bucket>.log rather than
 * delivering it into the target bucket (see docs/serving.md).
 */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { S3_NS, child, childText, doc, el, parseXml, text } from '../xml.js';
import { bucketFor, storeCall } from './_common.js';

export const putBucketLogging: Handler<'PutBucketLogging'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const root = parseXml((await ctx.readBody(64 * 1024)).toString('utf8'));
  const status = child(root, 'BucketLoggingStatus');
  if (!status) throw new S3Error('MalformedXML', 'The root element must be BucketLoggingStatus.');
  const enabled = child(status, 'LoggingEnabled');
  if (!enabled) {
    await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'logging', undefined));
    return emptyReply(200);
  }
  const targetBucket = childText(enabled, 'TargetBucket');
  if (!targetBucket) throw new S3Error('MalformedXML', 'LoggingEnabled needs a TargetBucket.');
  if (!ctx.store.getBucket(targetBucket)) throw new S3Error('InvalidArgument', 'The target bucket for logging does not exist', { ArgumentName: 'TargetBucket', ArgumentValue: targetBucket });
  const stored = doc('BucketLoggingStatus', el('LoggingEnabled', text('TargetBucket', targetBucket), text('TargetPrefix', childText(enabled, 'TargetPrefix') ?? '')));
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'logging', stored));
  return emptyReply(200);
};

export const getBucketLogging: Handler<'GetBucketLogging'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const stored = ctx.store.getBucketConfig(ctx.op.bucket, 'logging');
  // setAccessLog (the admin switch) stores JSON; only S3's own document is returned as such.
  return xmlReply(stored?.startsWith('<') ? stored : `<?xml version="1.0" encoding="UTF-8"?>\n<BucketLoggingStatus xmlns="${S3_NS}"/>`);
};
