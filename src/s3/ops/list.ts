/** ListObjects (v1), ListObjectsV2 and ListObjectVersions over the engine's ordered listing. */
import { S3Error } from '../../errors/s3-error.js';
import { xmlReply, type Handler, type RequestContext } from '../context.js';
import { doc, el, isoDate, text } from '../xml.js';
import { bucketFor, ownerXml } from './_common.js';
import type { ListResult, ListVersionsResult, ObjectMeta } from '../../storage/types.js';

const MAX_KEYS = 1000;

function maxKeys(q: URLSearchParams): number {
  const raw = q.get('max-keys');
  if (raw === null) return MAX_KEYS;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: raw });
  return Math.min(Number(raw), MAX_KEYS);
}

/** With `encoding-type=url`, names go out percent-encoded (clients decode them as form values). */
function encoder(q: URLSearchParams): (value: string) => string {
  const type = q.get('encoding-type');
  if (type === null) return (v) => v;
  if (type.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: type });
  return (v) => encodeURIComponent(v).replace(/%2F/g, '/');
}

async function listPage(ctx: RequestContext & { op: { bucket: string } }, after: string | undefined, limit: number): Promise<ListResult> {
  const prefix = ctx.query.get('prefix') ?? undefined;
  const delimiter = ctx.query.get('delimiter') || undefined;
  if (limit === 0) return { objects: [], commonPrefixes: [], isTruncated: false };
  return ctx.store.listObjects({ bucket: ctx.op.bucket, prefix, delimiter, after, maxKeys: limit });
}

function contentsXml(ctx: RequestContext, o: ObjectMeta, enc: (v: string) => string, withOwner: boolean): string {
  return el(
    'Contents',
    text('Key', enc(o.key)),
    text('LastModified', isoDate(o.lastModified)),
    text('ETag', o.etag),
    o.checksum ? text('ChecksumAlgorithm', o.checksum.algorithm) + text('ChecksumType', o.checksum.type) : '',
    text('Size', o.size),
    withOwner ? ownerXml(ctx, o.owner) : '',
    text('StorageClass', 'STANDARD'),
  );
}

function prefixesXml(prefixes: string[], enc: (v: string) => string): string[] {
  return prefixes.map((p) => el('CommonPrefixes', text('Prefix', enc(p))));
}

export const listObjectsV2: Handler<'ListObjectsV2'> = async (ctx) => {
  bucketFor(ctx, 'READ');
  const q = ctx.query;
  const enc = encoder(q);
  const limit = maxKeys(q);
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') ?? undefined;
  let after = startAfter;
  // An empty token is no token (the suites send one), though it is echoed back.
  if (token !== null && token !== '') {
    const decoded = decodeToken(token);
    if (decoded === undefined) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    after = decoded;
  }
  const page = await listPage(ctx, after, limit);
  const fetchOwner = q.get('fetch-owner') === 'true';
  const delimiter = q.get('delimiter') || undefined;
  const body = doc(
    'ListBucketResult',
    text('Name', ctx.op.bucket),
    text('Prefix', enc(q.get('prefix') ?? '')),
    delimiter === undefined ? '' : text('Delimiter', enc(delimiter)),
    text('MaxKeys', limit),
    q.get('encoding-type') === null ? '' : text('EncodingType', 'url'),
    text('KeyCount', page.objects.length + page.commonPrefixes.length),
    text('IsTruncated', page.isTruncated),
    token === null ? '' : text('ContinuationToken', token),
    page.isTruncated && page.lastReturned !== undefined ? text('NextContinuationToken', encodeToken(page.lastReturned)) : '',
    startAfter === undefined ? '' : text('StartAfter', enc(startAfter)),
    page.objects.map((o) => contentsXml(ctx, o, enc, fetchOwner)),
    prefixesXml(page.commonPrefixes, enc),
  );
  return xmlReply(body);
};

export const listObjects: Handler<'ListObjects'> = async (ctx) => {
  bucketFor(ctx, 'READ');
  const q = ctx.query;
  const enc = encoder(q);
  const limit = maxKeys(q);
  const marker = q.get('marker') ?? '';
  const page = await listPage(ctx, marker === '' ? undefined : marker, limit);
  const delimiter = q.get('delimiter') || undefined;
  const body = doc(
    'ListBucketResult',
    text('Name', ctx.op.bucket),
    // Clients do not URL-decode v1's top-level Prefix (botocore decodes only Marker, NextMarker, Delimiter).
    text('Prefix', q.get('prefix') ?? ''),
    text('Marker', enc(marker)),
    // S3 sends NextMarker only with a delimiter; without one, clients continue from the last key.
    page.isTruncated && delimiter !== undefined && page.lastReturned !== undefined ? text('NextMarker', enc(page.lastReturned)) : '',
    text('MaxKeys', limit),
    delimiter === undefined ? '' : text('Delimiter', enc(delimiter)),
    q.get('encoding-type') === null ? '' : text('EncodingType', 'url'),
    text('IsTruncated', page.isTruncated),
    page.objects.map((o) => contentsXml(ctx, o, enc, true)),
    prefixesXml(page.commonPrefixes, enc),
  );
  return xmlReply(body);
};

/** ListObjectVersions: every version and delete marker, S3's order (key ascending, newest first), paged by key and version id. */
export const listObjectVersions: Handler<'ListObjectVersions'> = async (ctx) => {
  bucketFor(ctx, 'READ');
  const q = ctx.query;
  const enc = encoder(q);
  const limit = maxKeys(q);
  const keyMarker = q.get('key-marker') ?? '';
  const versionIdMarker = q.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker.slice(0, 64) });
  const page = await versionsPage(ctx, keyMarker, versionIdMarker, limit);
  const delimiter = q.get('delimiter') || undefined;
  const body = doc(
    'ListVersionsResult',
    text('Name', ctx.op.bucket),
    text('Prefix', enc(q.get('prefix') ?? '')),
    text('KeyMarker', enc(keyMarker)),
    text('VersionIdMarker', versionIdMarker),
    page.nextKeyMarker !== undefined ? text('NextKeyMarker', enc(page.nextKeyMarker)) : '',
    page.nextVersionIdMarker !== undefined ? text('NextVersionIdMarker', page.nextVersionIdMarker) : '',
    text('MaxKeys', limit),
    delimiter === undefined ? '' : text('Delimiter', enc(delimiter)),
    q.get('encoding-type') === null ? '' : text('EncodingType', 'url'),
    text('IsTruncated', page.isTruncated),
    page.versions.map(({ meta: o, isLatest }) =>
      o.deleteMarker
        ? el('DeleteMarker', text('Key', enc(o.key)), text('VersionId', o.versionId ?? 'null'), text('IsLatest', isLatest), text('LastModified', isoDate(o.lastModified)), ownerXml(ctx, o.owner))
        : el(
            'Version',
            text('Key', enc(o.key)),
            text('VersionId', o.versionId ?? 'null'),
            text('IsLatest', isLatest),
            text('LastModified', isoDate(o.lastModified)),
            text('ETag', o.etag),
            o.checksum ? text('ChecksumAlgorithm', o.checksum.algorithm) + text('ChecksumType', o.checksum.type) : '',
            text('Size', o.size),
            ownerXml(ctx, o.owner),
            text('StorageClass', 'STANDARD'),
          ),
    ),
    prefixesXml(page.commonPrefixes, enc),
  );
  return xmlReply(body);
};

/** A page of versions: from the store's version index, or (a store without versioning) its objects, each its one `null` version. */
async function versionsPage(ctx: RequestContext & { op: { bucket: string } }, keyMarker: string, versionIdMarker: string, limit: number): Promise<ListVersionsResult> {
  const prefix = ctx.query.get('prefix') ?? undefined;
  const delimiter = ctx.query.get('delimiter') || undefined;
  if (limit === 0) return { versions: [], commonPrefixes: [], isTruncated: false };
  if (ctx.store.supportsVersioning && ctx.store.listObjectVersions) {
    return ctx.store.listObjectVersions({ bucket: ctx.op.bucket, prefix, delimiter, keyMarker: keyMarker || undefined, versionIdMarker: versionIdMarker || undefined, maxKeys: limit });
  }
  const page = await listPage(ctx, keyMarker === '' ? undefined : keyMarker, limit);
  const last = page.isTruncated ? page.lastReturned : undefined;
  return { versions: page.objects.map((meta) => ({ meta, isLatest: true })), commonPrefixes: page.commonPrefixes, isTruncated: page.isTruncated, nextKeyMarker: last, nextVersionIdMarker: last === undefined ? undefined : 'null' };
}

function encodeToken(key: string): string {
  return Buffer.from(`k:${key}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string | undefined {
  const raw = Buffer.from(token, 'base64url').toString('utf8');
  return raw.startsWith('k:') ? raw.slice(2) : undefined;
}
