/** Get/Put/DeleteBucketOwnershipControls and Get/Put/DeletePublicAccessBlock. */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { child, children, childText, doc, el, parseXml, text } from '../xml.js';
import { bucketFor, storeCall } from './_common.js';
import { BLOCK_FIELDS, OWNERSHIP_VALUES, isPublicAcl, objectOwnership, publicAccessBlock, type ObjectOwnership, type PublicAccessBlock } from '../access/public-access-controls.js';

export function parseOwnership(value: string | undefined): ObjectOwnership {
  if (!value || !(OWNERSHIP_VALUES as readonly string[]).includes(value)) {
    throw new S3Error('InvalidArgument', `ObjectOwnership must be one of ${OWNERSHIP_VALUES.join(', ')}`, { ArgumentName: 'ObjectOwnership', ArgumentValue: value ?? '' });
  }
  return value as ObjectOwnership;
}

export const putBucketOwnershipControls: Handler<'PutBucketOwnershipControls'> = async (ctx) => {
  const bucket = bucketFor(ctx, 'WRITE', true);
  const root = child(parseXml((await ctx.readBody(16 * 1024)).toString('utf8')), 'OwnershipControls');
  if (!root) throw new S3Error('MalformedXML');
  const ownership = parseOwnership(childText(children(root, 'Rule')[0], 'ObjectOwnership'));
  if (ownership === 'BucketOwnerEnforced' && isPublicAcl(bucket.acl)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'ownership', ownership));
  return emptyReply(200);
};

export const getBucketOwnershipControls: Handler<'GetBucketOwnershipControls'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const ownership = objectOwnership(ctx.store, ctx.op.bucket);
  if (!ownership) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(doc('OwnershipControls', el('Rule', text('ObjectOwnership', ownership))));
};

export const deleteBucketOwnershipControls: Handler<'DeleteBucketOwnershipControls'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'ownership', undefined));
  return emptyReply(204);
};

export const putPublicAccessBlock: Handler<'PutPublicAccessBlock'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const root = child(parseXml((await ctx.readBody(16 * 1024)).toString('utf8')), 'PublicAccessBlockConfiguration');
  if (!root) throw new S3Error('MalformedXML');
  const config = {} as PublicAccessBlock;
  for (const field of BLOCK_FIELDS) {
    const value = childText(root, field)?.trim().toLowerCase();
    if (value !== undefined && value !== 'true' && value !== 'false') throw new S3Error('MalformedXML', `${field} must be true or false`);
    config[field] = value === 'true';
  }
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'public-access-block', JSON.stringify(config)));
  return emptyReply(200);
};

export const getPublicAccessBlock: Handler<'GetPublicAccessBlock'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const config = publicAccessBlock(ctx.store, ctx.op.bucket);
  if (!config) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(doc('PublicAccessBlockConfiguration', BLOCK_FIELDS.map((f) => text(f, config[f]))));
};

export const deletePublicAccessBlock: Handler<'DeletePublicAccessBlock'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'public-access-block', undefined));
  return emptyReply(204);
};
