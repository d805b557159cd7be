/** ACL sub-resources: Get/PutBucketAcl and Get/PutObjectAcl. */
import { checkRequestedAcl } from '../access/public-access-controls.js';
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler, type RequestContext } from '../context.js';
import { expandAcl } from '../access/authorize.js';
import { aclFromHeaders, aclXml, parseAclXml } from '../access/acl-grants.js';
import { bucketFor, displayName, requireBucket, storeCall } from './_common.js';
import { readableVersion, requestedVersion, versionHeaders } from './versioning.js';
import type { Acl } from '../../storage/types.js';

/** The new ACL from the headers or the XML body (exactly one of them). */
async function requestedAcl(ctx: RequestContext): Promise<Acl> {
  const fromHeaders = aclFromHeaders(ctx.headers);
  const body = await ctx.readBody(64 * 1024);
  if (body.length > 0) {
    if (fromHeaders) throw new S3Error('UnexpectedContent', 'This request does not support content when an ACL header is given');
    return { grants: parseAclXml(body.toString('utf8')) };
  }
  if (!fromHeaders) throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  return fromHeaders;
}

/** The requested ACL, refused when the bucket's ownership controls or public access block forbid it. */
async function allowedAcl(ctx: RequestContext & { op: { bucket: string } }): Promise<Acl> {
  const acl = await requestedAcl(ctx);
  checkRequestedAcl(ctx.store, ctx.op.bucket, acl);
  // A grant to a canonical id nobody has would be a grant to nobody: S3 refuses it.
  for (const grant of 'grants' in acl ? acl.grants : []) {
    const who = grant.grantee;
    if (who.type === 'CanonicalUser' && who.id !== ctx.config.rootOwner.id && ctx.config.ownerName?.(who.id) === undefined) {
      throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: who.id });
    }
  }
  return acl;
}

export const getBucketAcl: Handler<'GetBucketAcl'> = async (ctx) => {
  const bucket = bucketFor(ctx, 'READ_ACP');
  const names = (id: string) => displayName(ctx, id);
  return xmlReply(aclXml({ id: bucket.owner, displayName: names(bucket.owner) }, expandAcl(bucket.acl, bucket.owner), names));
};

export const putBucketAcl: Handler<'PutBucketAcl'> = async (ctx) => {
  bucketFor(ctx, 'WRITE_ACP');
  const acl = await allowedAcl(ctx);
  await storeCall(ctx, () => ctx.store.setBucketAcl(ctx.op.bucket, acl));
  return emptyReply(200);
};

export const getObjectAcl: Handler<'GetObjectAcl'> = async (ctx) => {
  const bucket = requireBucket(ctx);
  const meta = await readableVersion(ctx, bucket, 'READ_ACP');
  const names = (id: string) => displayName(ctx, id);
  return xmlReply(aclXml({ id: meta.owner, displayName: names(meta.owner) }, expandAcl(meta.acl, meta.owner, bucket.owner), names), 200, versionHeaders(ctx, meta));
};

export const putObjectAcl: Handler<'PutObjectAcl'> = async (ctx) => {
  const bucket = requireBucket(ctx);
  const meta = await readableVersion(ctx, bucket, 'WRITE_ACP');
  const acl = await allowedAcl(ctx);
  await storeCall(ctx, () => ctx.store.updateObjectMeta(ctx.op.bucket, ctx.op.key, () => ({ acl }), requestedVersion(ctx)));
  return emptyReply(200, versionHeaders(ctx, meta));
};
