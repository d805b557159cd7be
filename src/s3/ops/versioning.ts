/**
 * Bucket versioning: Put/GetBucketVersioning, and the pieces every object operation shares for
 * `?versionId=`, `x-amz-version-id` and delete markers. The store decides what a write does
 * from the bucket's state (storage/objects.ts); a store without versioning (Store.supportsVersioning)
 * answers NotImplemented to turning it on, and knows only the `null` version.
 */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler, type RequestContext } from '../context.js';
import { httpDate } from '../headers.js';
import { child, childText, doc, parseXml, text } from '../xml.js';
import { bucketFor, objectAccess, storeCall } from './_common.js';
import type { BucketInfo, ObjectMeta, VersioningState } from '../../storage/types.js';

type ObjectCtx = RequestContext & { op: { bucket: string; key: string } };

export function versioningState(ctx: RequestContext, bucket: string): VersioningState | undefined {
  if (!ctx.store.supportsVersioning) return undefined;
  const state = ctx.store.getBucketConfig(bucket, 'versioning');
  return state === 'Enabled' || state === 'Suspended' ? state : undefined;
}

/**
 * The `versionId` a request names. On a store without versioning every object is its `null`
 * version, so `null` means the current object and any other id names nothing.
 */
export function requestedVersion(ctx: RequestContext, raw = ctx.query.get('versionId')): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (raw === '') throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', { ArgumentName: 'versionId', ArgumentValue: '' });
  if (!ctx.store.supportsVersioning) {
    if (raw === 'null') return undefined;
    throw new S3Error('NoSuchVersion', undefined, { VersionId: raw.slice(0, 64) });
  }
  return raw;
}

/** `x-amz-version-id` for a version: its id, or `null` for the null version of a bucket that has a versioning state. */
export function versionHeaders(ctx: RequestContext, meta: Pick<ObjectMeta, 'bucket' | 'versionId' | 'deleteMarker'>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (meta.versionId !== undefined) headers['x-amz-version-id'] = meta.versionId;
  else if (versioningState(ctx, meta.bucket) !== undefined) headers['x-amz-version-id'] = 'null';
  if (meta.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return headers;
}

/** `x-amz-version-id` on a write's answer: only a real id (S3 sends none for the null version of a suspended bucket). */
export function writtenVersionHeaders(meta: Pick<ObjectMeta, 'versionId'>): Record<string, string> {
  return meta.versionId === undefined ? {} : { 'x-amz-version-id': meta.versionId };
}

/** The version a read names, or the current object; a caller allowed to list learns why it is missing (a delete marker). */
export async function readableVersion(ctx: ObjectCtx, bucket: BucketInfo, permission: Parameters<typeof objectAccess>[3], opts?: Parameters<typeof objectAccess>[4]): Promise<ObjectMeta> {
  const versionId = requestedVersion(ctx);
  const meta = await ctx.store.headObject(ctx.op.bucket, ctx.op.key, versionId === undefined ? undefined : { versionId });
  if (meta && !meta.deleteMarker) return objectAccess(ctx, bucket, meta, permission, opts);
  return throwAbsent(ctx, bucket, versionId, meta);
}

/**
 * Throws the error for a key or version with nothing to read: AccessDenied to a caller who may
 * not list the bucket; for a delete marker, 404 (the latest version) or 405 (named by id) with
 * `x-amz-delete-marker: true`, as S3 answers; NoSuchVersion for an unknown id.
 */
export async function throwAbsent(ctx: ObjectCtx, bucket: BucketInfo, versionId: string | undefined, found?: ObjectMeta): Promise<never> {
  try {
    objectAccess(ctx, bucket, undefined, 'READ');
  } catch (err) {
    if (!(err instanceof S3Error) || err.code !== 'NoSuchKey') throw err;
  }
  const lookup = versionId !== undefined ? { versionId } : versioningState(ctx, bucket.name) !== undefined ? { latestEvenIfMarker: true } : undefined;
  const marker = found ?? (lookup && (await ctx.store.headObject(ctx.op.bucket, ctx.op.key, lookup)));
  if (marker?.deleteMarker) {
    const headers = { ...versionHeaders(ctx, marker), 'Last-Modified': httpDate(marker.lastModified) };
    if (versionId !== undefined) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: ctx.req.method ?? 'GET', ResourceType: 'DeleteMarker' }, { ...headers, Allow: 'DELETE' });
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.op.key }, headers);
  }
  if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: ctx.op.key, VersionId: versionId.slice(0, 64) });
  // Said to a caller who may list the bucket anyway: no delete marker hides this key.
  throw new S3Error('NoSuchKey', undefined, { Key: ctx.op.key }, { 'x-amz-delete-marker': 'false' });
}

export const putBucketVersioning: Handler<'PutBucketVersioning'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const root = child(parseXml((await ctx.readBody(16 * 1024)).toString('utf8')), 'VersioningConfiguration');
  if (!root) throw new S3Error('MalformedXML');
  const status = childText(root, 'Status');
  const mfaDelete = childText(root, 'MfaDelete');
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML', 'Status must be Enabled or Suspended');
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw new S3Error('MalformedXML', 'MfaDelete must be Enabled or Disabled');
  if (mfaDelete === 'Enabled') throw new S3Error('NotImplemented', 'MFA Delete is not supported by this server: it has no MFA devices. Send MfaDelete Disabled or leave it out.', { Header: 'MfaDelete' });
  if (!ctx.store.supportsVersioning) throw new S3Error('NotImplemented', 'Bucket versioning is not supported by this server\'s metadata store', { Operation: 'PutBucketVersioning' });
  // No Status changes nothing; Suspended on a never-versioned bucket is a state of its own on S3 too.
  if (status !== undefined) await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'versioning', status));
  return emptyReply(200);
};

export const getBucketVersioning: Handler<'GetBucketVersioning'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const state = versioningState(ctx, ctx.op.bucket);
  return xmlReply(doc('VersioningConfiguration', state === undefined ? '' : text('Status', state)));
};
