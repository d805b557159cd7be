/** DeleteObject and DeleteObjects (batch, Quiet mode, per-key errors). */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { header } from '../headers.js';
import { children, childText, doc, el, parseXml, text, child } from '../xml.js';
import { bucketFor, storeCall } from './_common.js';
import { toS3Error } from '../respond.js';
import { requestedVersion, versionHeaders } from './versioning.js';

export const deleteObject: Handler<'DeleteObject'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const versionId = requestedVersion(ctx);
  const gone = await storeCall(ctx, () => ctx.store.deleteObject(ctx.op.bucket, ctx.op.key, versionId));
  // Deleting by id answers with that id (found or not, as S3 does); a new marker with its own.
  const headers = versionId !== undefined ? { 'x-amz-version-id': versionId, ...(gone?.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) } : gone?.deleteMarker ? versionHeaders(ctx, gone) : {};
  return emptyReply(204, headers);
};

const MAX_BATCH = 1000;

export const deleteObjects: Handler<'DeleteObjects'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const hasIntegrity = header(ctx.headers, 'content-md5') !== undefined || Object.keys(ctx.headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-mode') || header(ctx.headers, 'x-amz-sdk-checksum-algorithm') !== undefined || header(ctx.headers, 'x-amz-trailer') !== undefined;
  if (!hasIntegrity) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  const body = await ctx.readBody(2 * 1024 * 1024);
  const root = child(parseXml(body.toString('utf8')), 'Delete');
  if (!root) throw new S3Error('MalformedXML');
  const quiet = childText(root, 'Quiet')?.toLowerCase() === 'true';
  const objects = children(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_BATCH) throw new S3Error('MalformedXML');
  const results: string[] = [];
  for (const entry of objects) {
    const key = childText(entry, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    const versionId = childText(entry, 'VersionId');
    try {
      const chosen = requestedVersion(ctx, versionId);
      const gone = await storeCall(ctx, () => ctx.store.deleteObject(ctx.op.bucket, key, chosen));
      const marker = gone?.deleteMarker ? text('DeleteMarker', true) + (chosen === undefined ? text('DeleteMarkerVersionId', gone.versionId ?? 'null') : '') : '';
      if (!quiet) results.push(el('Deleted', text('Key', key), versionId === undefined ? '' : text('VersionId', versionId), marker));
    } catch (err) {
      const s3err = toS3Error(err);
      results.push(el('Error', text('Key', key), versionId === undefined ? '' : text('VersionId', versionId), text('Code', s3err.code), text('Message', s3err.message)));
    }
  }
  return xmlReply(doc('DeleteResult', results));
};
