/** Small pieces every operation group uses: bucket lookup, access checks, owner XML. */
import { S3Error } from '../../errors/s3-error.js';
import { s3ErrorFromStore } from '../../errors/store-error.js';
import { authorize, type Permission } from '../access/authorize.js';
import { ACTIONS } from '../access/actions.js';
import { header } from '../headers.js';
import { evaluatePolicy, type Decision } from '../access/bucket-policy.js';
import { bucketPolicy } from '../access/policy-cache.js';
import { bucketControls } from '../access/public-access-controls.js';
import type { RequestContext } from '../context.js';
import { el, text } from '../xml.js';
import type { BucketInfo, ObjectMeta } from '../../storage/types.js';

type BucketCtx = RequestContext & { op: { bucket: string } };

export function requireBucket(ctx: BucketCtx): BucketInfo {
  const bucket = ctx.store.getBucket(ctx.op.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.op.bucket });
  // x-amz-expected-bucket-owner: the caller's guard against writing into someone else's bucket.
  const expectedOwner = header(ctx.headers, 'x-amz-expected-bucket-owner');
  if (expectedOwner !== undefined && expectedOwner !== bucket.owner) throw new S3Error('AccessDenied');
  return bucket;
}

/** Looks the bucket up and checks the caller may use it with `permission` (or owner-only). */
export function bucketFor(ctx: BucketCtx & { op: { key?: string } }, permission: Permission, ownerOnly = false): BucketInfo {
  const bucket = requireBucket(ctx);
  const policy = policyDecision(ctx, bucket, ctx.op.key);
  authorize({ principal: ctx.principal, rootOwner: ctx.config.rootOwner.id, bucket, permission, ownerOnly, policy, controls: bucketControls(ctx.store, bucket.name) });
  return bucket;
}

/** The bucket policy's verdict on this request for the bucket or one of its keys. */
export function policyDecision(ctx: RequestContext, bucket: BucketInfo, key: string | undefined, action = ACTIONS[ctx.op.op]): Decision {
  const policy = bucketPolicy(ctx.store, bucket.name);
  if (!policy) return 'Default';
  const remote = ctx.req.socket.remoteAddress;
  return evaluatePolicy(policy, {
    caller: ctx.principal.kind === 'user' ? ctx.principal.credential.owner : undefined,
    action,
    resource: key === undefined ? `arn:aws:s3:::${bucket.name}` : `arn:aws:s3:::${bucket.name}/${key}`,
    sourceIp: remote?.startsWith('::ffff:') ? remote.slice(7) : remote,
    referer: header(ctx.headers, 'referer'),
    userAgent: header(ctx.headers, 'user-agent'),
    secureTransport: false,
    prefix: ctx.query.get('prefix') ?? undefined,
    delimiter: ctx.query.get('delimiter') ?? undefined,
    maxKeys: ctx.query.get('max-keys') ?? undefined,
  });
}

/**
 * Checks access to an existing object. When the caller may not list the bucket, a missing key
 * is AccessDenied rather than NoSuchKey, as S3 does, so that existence does not leak.
 */
export function objectAccess(ctx: BucketCtx & { op: { key: string } }, bucket: BucketInfo, meta: ObjectMeta | undefined, permission: Permission, opts: { notByAcl?: boolean } = {}): ObjectMeta {
  const rootOwner = ctx.config.rootOwner.id;
  if (!meta) {
    try {
      authorize({ principal: ctx.principal, rootOwner, bucket, permission: 'READ', policy: policyDecision(ctx, bucket, undefined, 's3:ListBucket'), controls: bucketControls(ctx.store, bucket.name) });
    } catch {
      throw new S3Error('AccessDenied');
    }
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.op.key });
  }
  const policy = policyDecision(ctx, bucket, ctx.op.key);
  authorize({ principal: ctx.principal, rootOwner, bucket, permission, object: { acl: meta.acl, owner: meta.owner }, policy, controls: bucketControls(ctx.store, bucket.name), notByAcl: opts.notByAcl ? {} : undefined });
  return meta;
}

/**
 * ListParts and AbortMultipartUpload: the bucket owner, the upload's initiator, or a bucket
 * policy; no ACL grants them. Checked before the upload's existence is revealed.
 */
export function uploadAccess(ctx: BucketCtx & { op: { key: string } }, upload: { owner: string } | undefined): BucketInfo {
  const bucket = requireBucket(ctx);
  const policy = policyDecision(ctx, bucket, ctx.op.key);
  authorize({ principal: ctx.principal, rootOwner: ctx.config.rootOwner.id, bucket, permission: 'WRITE', policy, controls: bucketControls(ctx.store, bucket.name), notByAcl: { initiator: upload?.owner } });
  return bucket;
}

/** The caller's canonical id (anonymous callers own nothing). */
export function callerId(ctx: RequestContext): string {
  if (ctx.principal.kind !== 'user') throw new S3Error('AccessDenied');
  return ctx.principal.credential.owner;
}

export function ownerXml(ctx: RequestContext, id: string): string {
  return el('Owner', text('ID', id), text('DisplayName', displayName(ctx, id)));
}

export function displayName(ctx: RequestContext, id: string): string {
  if (id === ctx.config.rootOwner.id) return ctx.config.rootOwner.displayName;
  if (ctx.principal.kind === 'user' && ctx.principal.credential.owner === id) return ctx.principal.credential.displayName;
  return ctx.config.ownerName?.(id) ?? id;
}

/** Turns engine errors into the S3 errors of the same name, with the resource named. */
export function fromStoreError(err: unknown, ctx: BucketCtx & { op: { key?: string } }): unknown {
  return s3ErrorFromStore(err, { bucket: ctx.op.bucket, key: ctx.op.key });
}

/** Runs an engine call, translating its errors. */
export async function storeCall<T>(ctx: BucketCtx & { op: { key?: string } }, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromStoreError(err, ctx);
  }
}
