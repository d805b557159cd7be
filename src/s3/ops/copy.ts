/** CopyObject: same or another bucket, COPY/REPLACE directives, copy-source conditions, copy onto itself. */
import { newObjectOwner, requestedAclHeaders } from '../access/public-access-controls.js';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors/s3-error.js';
import { xmlReply, type Handler, type RequestContext } from '../context.js';
import { aclFromHeaders } from '../access/acl-grants.js';
import { header, objectHeadersFromRequest, tagsFromHeader, validRedirectLocation } from '../headers.js';
import { doc, isoDate, text } from '../xml.js';
import { checkConditions } from './object-get.js';
import { bucketFor, objectAccess, storeCall } from './_common.js';
import { MAX_PUT_SIZE, validateKey, writePrecondition } from './object-put.js';
import type { ObjectHeaders, ObjectMeta } from '../../storage/types.js';
import { requestedVersion, throwAbsent, versioningState, writtenVersionHeaders } from './versioning.js';
import { copyEncryption, openCopySource } from '../sse/copy.js';
import { sseResponseHeaders } from '../sse/headers.js';
import { requestedEncryption } from '../sse/write.js';

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, percent-encoded. */
export function parseCopySource(value: string): { bucket: string; key: string; versionId?: string } {
  let raw = value.trim();
  const q = raw.indexOf('?');
  let versionId: string | undefined;
  if (q >= 0) {
    versionId = new URLSearchParams(raw.slice(q + 1)).get('versionId') ?? undefined;
    raw = raw.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw.startsWith('/') ? raw.slice(1) : raw);
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error('InvalidArgument', 'Invalid copy source object key', { ArgumentName: 'x-amz-copy-source' });
  const source = { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
  return versionId === undefined ? source : { ...source, versionId };
}

/** The `x-amz-copy-source-if-*` headers are the plain conditional headers, applied to the source; any failure is 412. */
export function checkCopySourceConditions(headers: IncomingHttpHeaders, source: ObjectMeta): void {
  const mapped: IncomingHttpHeaders = {};
  for (const name of ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since']) {
    const value = header(headers, `x-amz-copy-source-${name}`);
    if (value !== undefined) mapped[name] = value;
  }
  try {
    checkConditions(mapped, source);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NotModified') throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-None-Match' });
    throw err;
  }
}

/** Reads the copy source (the version named, or the current one) with the caller's rights on it. */
export async function readableSource(ctx: RequestContext, value: string): Promise<ObjectMeta> {
  const { bucket, key, versionId: rawVersion } = parseCopySource(value);
  const sourceCtx = { ...ctx, op: { op: 'GetObject' as const, bucket, key } };
  const sourceBucket = ctx.store.getBucket(bucket);
  if (!sourceBucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  // The copy's guard on its source, as x-amz-expected-bucket-owner is on the destination.
  const expectedOwner = header(ctx.headers, 'x-amz-source-expected-bucket-owner');
  if (expectedOwner !== undefined && expectedOwner !== sourceBucket.owner) throw new S3Error('AccessDenied');
  const versionId = requestedVersion(ctx, rawVersion);
  const meta = await ctx.store.headObject(bucket, key, versionId === undefined ? undefined : { versionId });
  if (meta?.deleteMarker) {
    objectAccess(sourceCtx, sourceBucket, undefined, 'READ');
    throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
  }
  if (!meta && versionId !== undefined) return throwAbsent(sourceCtx, sourceBucket, versionId);
  return objectAccess(sourceCtx, sourceBucket, meta, 'READ');
}

function directive(headers: IncomingHttpHeaders, name: string): 'COPY' | 'REPLACE' {
  const value = (header(headers, name) ?? 'COPY').toUpperCase();
  if (value !== 'COPY' && value !== 'REPLACE') throw new S3Error('InvalidArgument', `Unknown ${name}`, { ArgumentName: name, ArgumentValue: value });
  return value;
}

const headersOf = (meta: ObjectMeta): ObjectHeaders => ({
  contentType: meta.contentType,
  contentEncoding: meta.contentEncoding,
  contentDisposition: meta.contentDisposition,
  contentLanguage: meta.contentLanguage,
  cacheControl: meta.cacheControl,
  expires: meta.expires,
  websiteRedirectLocation: meta.websiteRedirectLocation,
  userMeta: meta.userMeta,
});

export const copyObject: Handler<'CopyObject'> = async (ctx) => {
  const { bucket, key } = ctx.op;
  bucketFor(ctx, 'WRITE');
  validateKey(key);
  const source = await readableSource(ctx, header(ctx.headers, 'x-amz-copy-source') ?? '');
  checkCopySourceConditions(ctx.headers, source);
  // One copy makes one single-PUT-sized object at most (larger ones are copied part by part).
  if (source.size > MAX_PUT_SIZE) throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_SIZE}`);
  const metaDirective = directive(ctx.headers, 'x-amz-metadata-directive');
  const tagDirective = directive(ctx.headers, 'x-amz-tagging-directive');
  const headers = metaDirective === 'REPLACE' ? objectHeadersFromRequest(ctx.headers) : { ...headersOf(source), websiteRedirectLocation: validRedirectLocation(header(ctx.headers, 'x-amz-website-redirect-location')) ?? source.websiteRedirectLocation };
  const tags = tagDirective === 'REPLACE' ? tagsFromHeader(header(ctx.headers, 'x-amz-tagging')) : source.tags;
  const acl = requestedAclHeaders(ctx.store, ctx.op.bucket, ctx.headers) ?? { canned: 'private' as const };
  const owner = newObjectOwner(ctx.store, ctx.op.bucket, ctx.principal.kind === 'user' ? ctx.principal.credential.owner : ctx.config.rootOwner.id, acl);
  const precondition = writePrecondition(ctx.headers);
  const encryption = copyEncryption(ctx, source, requestedEncryption(ctx, bucket));
  let result: ObjectMeta;
  // In a bucket with versioning a copy onto the same key makes a new version (restoring an old
  // one is exactly that); only a never-versioned bucket changes the object in place.
  const destination = source.bucket === bucket && source.key === key ? await ctx.store.headObject(bucket, key) : undefined;
  const ontoItself = destination !== undefined && destination.versionId === source.versionId;
  if (ontoItself && encryption.shares) {
    const changesSomething = metaDirective === 'REPLACE' || tagDirective === 'REPLACE' || header(ctx.headers, 'x-amz-website-redirect-location') !== undefined || header(ctx.headers, 'x-amz-storage-class') !== undefined || aclFromHeaders(ctx.headers) !== undefined;
    if (!changesSomething) {
      throw new S3Error('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
    }
  }
  if (!encryption.shares) {
    // A change of encryption (or of SSE-C key) rewrites the bytes under new data keys.
    const { reader, body } = await openCopySource(ctx.store, source, encryption.sourceKey);
    result = await storeCall(ctx, () => ctx.store.putObject({ ...headers, bucket, key, body, owner, acl, tags, precondition, encryption: encryption.target, checksum: source.checksum })).finally(() => reader.close());
  } else if (ontoItself && versioningState(ctx, bucket) === undefined) {
    result = await storeCall(ctx, () => ctx.store.updateObjectMeta(bucket, key, (current) => {
      if (current.etag !== source.etag) throw new S3Error('PreconditionFailed', 'The source object changed during the copy');
      precondition?.(current);
      return { ...headers, tags, acl };
    }));
  } else {
    result = await storeCall(ctx, () => ctx.store.copyObject({ source, bucket, key, headers, owner, acl, tags, precondition }));
  }
  const checksum = result.checksum;
  return xmlReply(
    doc(
      'CopyObjectResult',
      text('LastModified', isoDate(result.lastModified)),
      text('ETag', result.etag),
      checksum ? text(`Checksum${checksum.algorithm}`, checksum.value) + text('ChecksumType', checksum.type) : '',
    ),
    200,
    { 'x-amz-copy-source-version-id': source.versionId ?? 'null', ...writtenVersionHeaders(result), ...sseResponseHeaders(result.sse) },
  );
};
