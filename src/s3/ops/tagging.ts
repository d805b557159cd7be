/** Object and bucket tagging: Get/Put/Delete{Object,Bucket}Tagging (object tags can also come with PutObject's `x-amz-tagging`). */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { validateTags } from '../headers.js';
import { child, children, childText, doc, el, parseXml, text } from '../xml.js';
import { bucketFor, requireBucket, storeCall } from './_common.js';
import { readableVersion, requestedVersion } from './versioning.js';
import type { ObjectMeta } from '../../storage/types.js';

/** Tagging answers always name the version, `null` included (as S3 does, versioned bucket or not). */
const versionIdHeader = (meta: ObjectMeta) => ({ 'x-amz-version-id': meta.versionId ?? 'null' });

export function parseTaggingXml(body: string): Record<string, string> {
  const root = child(parseXml(body), 'Tagging');
  const set = child(root, 'TagSet');
  if (!root || !set) throw new S3Error('MalformedXML');
  const tags: Record<string, string> = {};
  for (const tag of children(set, 'Tag')) {
    const key = childText(tag, 'Key');
    const value = childText(tag, 'Value') ?? '';
    if (key === undefined) throw new S3Error('MalformedXML');
    if (key in tags) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    tags[key] = value;
  }
  validateTags(tags);
  return tags;
}

export function taggingXml(tags: Record<string, string>): string {
  const sorted = Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return doc('Tagging', el('TagSet', sorted.map(([k, v]) => el('Tag', text('Key', k), text('Value', v)))));
}

export const getObjectTagging: Handler<'GetObjectTagging'> = async (ctx) => {
  const meta = await readableVersion(ctx, requireBucket(ctx), 'READ', { notByAcl: true });
  return xmlReply(taggingXml(meta.tags), 200, versionIdHeader(meta));
};

export const putObjectTagging: Handler<'PutObjectTagging'> = async (ctx) => {
  const meta = await readableVersion(ctx, requireBucket(ctx), 'WRITE', { notByAcl: true });
  const tags = parseTaggingXml((await ctx.readBody(64 * 1024)).toString('utf8'));
  await storeCall(ctx, () => ctx.store.updateObjectMeta(ctx.op.bucket, ctx.op.key, () => ({ tags }), requestedVersion(ctx)));
  return emptyReply(200, versionIdHeader(meta));
};

export const deleteObjectTagging: Handler<'DeleteObjectTagging'> = async (ctx) => {
  const meta = await readableVersion(ctx, requireBucket(ctx), 'WRITE', { notByAcl: true });
  await storeCall(ctx, () => ctx.store.updateObjectMeta(ctx.op.bucket, ctx.op.key, () => ({ tags: {} }), requestedVersion(ctx)));
  return emptyReply(204, versionIdHeader(meta));
};

export const getBucketTagging: Handler<'GetBucketTagging'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const stored = ctx.store.getBucketConfig(ctx.op.bucket, 'tagging');
  if (stored === undefined) throw new S3Error('NoSuchTagSet', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(taggingXml(JSON.parse(stored) as Record<string, string>));
};

export const putBucketTagging: Handler<'PutBucketTagging'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const tags = parseTaggingXml((await ctx.readBody(64 * 1024)).toString('utf8'));
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'tagging', JSON.stringify(tags)));
  return emptyReply(204);
};

export const deleteBucketTagging: Handler<'DeleteBucketTagging'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'tagging', undefined));
  return emptyReply(204);
};
