/** Bucket lifecycle: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning. */
import { parseOwnership } from './bucket-controls.js';
import { header } from '../headers.js';
import { S3Error } from '../../errors/s3-error.js';
import { aclFromHeaders } from '../access/acl-grants.js';
import { listsBucket } from '../access/authorize.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { child, childText, doc, el, escapeXml, isoDate, parseXml, text } from '../xml.js';
import { bucketFor, callerId, ownerXml, storeCall } from './_common.js';

/**
 * S3's bucket naming rules (general purpose buckets). Underscores are refused, which also
 * keeps `/_offload/` free for the server's own endpoints.
 */
export function validateBucketName(name: string): void {
  const bad = (why: string) => new S3Error('InvalidBucketName', `The specified bucket is not valid: ${why}`, { BucketName: name });
  if (name.length < 3 || name.length > 63) throw bad('names must be 3 to 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) throw bad('use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit');
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) throw bad('no adjacent dots, or dots next to hyphens');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) throw bad('names must not look like an IP address');
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) throw bad('reserved prefix or suffix');
}

export const listBuckets: Handler<'ListBuckets'> = async (ctx) => {
  const owner = callerId(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const token = ctx.query.get('continuation-token') || undefined;
  const maxParam = ctx.query.get('max-buckets');
  if (maxParam !== null && !/^\d+$/.test(maxParam)) throw new S3Error('InvalidArgument', 'max-buckets must be a number', { ArgumentName: 'max-buckets', ArgumentValue: maxParam });
  const max = maxParam === null ? Infinity : Math.min(Math.max(Number(maxParam), 1), 10_000);
  // The continuation token is the last bucket name of the previous page (names are not secret here).
  const all = ctx.store.listBuckets().filter((b) => listsBucket(ctx.principal, b, ctx.config.rootOwner.id) && b.name.startsWith(prefix) && (token === undefined || b.name > token));
  const buckets = all.slice(0, max);
  const truncated = all.length > buckets.length;
  const body = doc(
    'ListAllMyBucketsResult',
    ownerXml(ctx, owner),
    el('Buckets', buckets.map((b) => el('Bucket', text('Name', b.name), text('CreationDate', isoDate(b.createdAt)), text('BucketRegion', b.region)))),
    truncated ? text('ContinuationToken', buckets.at(-1)!.name) : '',
    ctx.query.has('prefix') ? text('Prefix', prefix) : '',
  );
  return xmlReply(body);
};

export const createBucket: Handler<'CreateBucket'> = async (ctx) => {
  const name = ctx.op.bucket;
  validateBucketName(name);
  const owner = callerId(ctx);
  const acl = aclFromHeaders(ctx.headers) ?? { canned: 'private' };
  const body = await ctx.readBody(64 * 1024);
  if (body.length > 0) {
    const config = child(parseXml(body.toString('utf8')), 'CreateBucketConfiguration');
    if (!config) throw new S3Error('MalformedXML');
    const location = childText(config, 'LocationConstraint');
    if (location && location !== ctx.config.region) {
      throw new S3Error('IllegalLocationConstraintException', `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
  }
  const existing = ctx.store.getBucket(name);
  if (existing) {
    throw new S3Error(existing.owner === owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists', undefined, { BucketName: name });
  }
  const ownershipHeader = header(ctx.headers, 'x-amz-object-ownership');
  const ownership = ownershipHeader === undefined ? undefined : parseOwnership(ownershipHeader);
  if (ownership === 'BucketOwnerEnforced' && aclFromHeaders(ctx.headers) !== undefined && !('canned' in acl && (acl.canned === 'private' || acl.canned === 'bucket-owner-full-control'))) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  await storeCall(ctx, () => ctx.store.createBucket({ name, owner, region: ctx.config.region, acl }));
  if (ownership !== undefined) await storeCall(ctx, () => ctx.store.setBucketConfig(name, 'ownership', ownership));
  return emptyReply(200, { Location: `/${name}` });
};

export const headBucket: Handler<'HeadBucket'> = async (ctx) => {
  const bucket = bucketFor(ctx, 'READ');
  return emptyReply(200, { 'x-amz-bucket-region': bucket.region, 'x-amz-access-point-alias': 'false' });
};

export const deleteBucket: Handler<'DeleteBucket'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.deleteBucket(ctx.op.bucket));
  return emptyReply(204);
};

export const getBucketLocation: Handler<'GetBucketLocation'> = async (ctx) => {
  const bucket = bucketFor(ctx, 'READ', true);
  // us-east-1 is reported as an empty constraint, for historical reasons clients rely on.
  const region = bucket.region === 'us-east-1' ? '' : bucket.region;
  return xmlReply(doc('LocationConstraint', escapeXml(region)));
};

export const getBucketVersioning: Handler<'GetBucketVersioning'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  return xmlReply(doc('VersioningConfiguration'));
};
