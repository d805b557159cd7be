/**
 * Multipart uploads. Parts stream to their own blobs; completing points the object at those
 * blobs without copying a byte, in one metadata transaction.
 */
import { newObjectOwner, requestedAclHeaders } from '../access/public-access-controls.js';
import { Readable } from 'node:stream';
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler, type RequestContext } from '../context.js';
import { header, objectHeadersFromRequest, tagsFromHeader } from '../headers.js';
import { doc, el, isoDate, text } from '../xml.js';
import { bucketFor, displayName, ownerXml, storeCall, uploadAccess } from './_common.js';
import { parsePartNumber } from './part-number.js';
import { checkCopySourceConditions, readableSource } from './copy.js';
import { parseRange } from './object-get.js';
import { declaredSize, validateKey, verifiedBody } from './object-put.js';
import type { Checksum, ChecksumAlgorithm, MultipartUpload } from '../../storage/types.js';
import { copyEncryption } from '../sse/copy.js';
import { partEncryption, sseResponseHeaders } from '../sse/headers.js';
import { requestedEncryption } from '../sse/write.js';

export const MAX_PART_SIZE = 5 * 1024 ** 3;
const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

type ObjectCtx = RequestContext & { op: { bucket: string; key: string } };

/** The upload the query names, if it exists and is for this key. */
async function findUpload(ctx: ObjectCtx): Promise<MultipartUpload | undefined> {
  const upload = await ctx.store.getMultipartUpload(ctx.op.bucket, ctx.query.get('uploadId') ?? '');
  return upload && upload.key === ctx.op.key ? upload : undefined;
}

export async function requireUpload(ctx: ObjectCtx): Promise<MultipartUpload> {
  const upload = await findUpload(ctx);
  if (!upload) throw new S3Error('NoSuchUpload', undefined, { UploadId: ctx.query.get('uploadId') ?? '' });
  return upload;
}

function partNumber(ctx: RequestContext): number {
  return parsePartNumber(ctx.query.get('partNumber') ?? '');
}

/** `part-number-marker`: a decimal integer (0 = from the start); `1e3` or `abc` is refused, not read as 0. */
function partNumberMarker(ctx: RequestContext): number {
  const raw = ctx.query.get('part-number-marker');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,10}$/.test(raw)) throw new S3Error('InvalidArgument', 'Provided part-number-marker not an integer or within integer range', { ArgumentName: 'part-number-marker', ArgumentValue: raw.slice(0, 64) });
  return Number(raw);
}

const checksumHeaders = (c: Checksum | undefined): Record<string, string> => (c ? { [`x-amz-checksum-${c.algorithm.toLowerCase()}`]: c.value, 'x-amz-checksum-type': c.type } : {});
const checksumXml = (c: Checksum | undefined): string => (c ? text(`Checksum${c.algorithm}`, c.value) : '');

export const createMultipartUpload: Handler<'CreateMultipartUpload'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  validateKey(ctx.op.key);
  const algorithmHeader = header(ctx.headers, 'x-amz-checksum-algorithm')?.toUpperCase();
  if (algorithmHeader !== undefined && !ALGORITHMS.includes(algorithmHeader as ChecksumAlgorithm)) {
    throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  }
  const algorithm = algorithmHeader as ChecksumAlgorithm | undefined;
  const typeHeader = header(ctx.headers, 'x-amz-checksum-type')?.toUpperCase();
  if (typeHeader !== undefined && typeHeader !== 'COMPOSITE' && typeHeader !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', `Value for x-amz-checksum-type header is invalid.`);
  const checksumType = algorithm === undefined ? undefined : ((typeHeader as 'COMPOSITE' | 'FULL_OBJECT' | undefined) ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE'));
  if (checksumType === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) throw new S3Error('InvalidRequest', `The ${algorithm} checksum algorithm does not support the FULL_OBJECT checksum type.`);
  if (checksumType === 'COMPOSITE' && algorithm === 'CRC64NVME') throw new S3Error('InvalidRequest', 'The CRC64NVME checksum algorithm does not support the COMPOSITE checksum type.');
  const requestedAcl = requestedAclHeaders(ctx.store, ctx.op.bucket, ctx.headers);
  const sse = requestedEncryption(ctx, ctx.op.bucket)?.sse;
  const upload = await storeCall(ctx, () =>
    ctx.store.createMultipartUpload({
      bucket: ctx.op.bucket,
      key: ctx.op.key,
      owner: newObjectOwner(ctx.store, ctx.op.bucket, ctx.principal.kind === 'user' ? ctx.principal.credential.owner : ctx.config.rootOwner.id, requestedAcl),
      headers: objectHeadersFromRequest(ctx.headers),
      acl: requestedAcl ?? { canned: 'private' },
      tags: tagsFromHeader(header(ctx.headers, 'x-amz-tagging')),
      checksumAlgorithm: algorithm,
      checksumType,
      ...(sse && { sse }),
    }),
  );
  const extra: Record<string, string> = { ...(algorithm ? { 'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': checksumType! } : {}), ...sseResponseHeaders(upload.sse) };
  return xmlReply(doc('InitiateMultipartUploadResult', text('Bucket', upload.bucket), text('Key', upload.key), text('UploadId', upload.uploadId)), 200, extra);
};

export const uploadPart: Handler<'UploadPart'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const upload = await requireUpload(ctx);
  const n = partNumber(ctx);
  const size = declaredSize(ctx.headers, MAX_PART_SIZE);
  const encryption = partEncryption(ctx.req, ctx.headers, upload);
  const { decoded, checksum: requested, beforeCommit } = verifiedBody(ctx, size);
  if (upload.checksumAlgorithm && requested && requested.algorithm !== upload.checksumAlgorithm) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${requested.algorithm.toLowerCase()}`);
  }
  const part = await storeCall(ctx, () =>
    ctx.store.putPart({
      uploadId: upload.uploadId,
      partNumber: n,
      body: decoded.stream,
      beforeCommit,
      encryption,
      get checksum() {
        const value = requested ? decoded.checksum() : undefined;
        return value ? { ...value, type: 'COMPOSITE' as const } : undefined;
      },
    }),
  );
  return emptyReply(200, { ETag: part.etag, ...checksumHeaders(part.checksum), ...sseResponseHeaders(upload.sse) });
};

export const uploadPartCopy: Handler<'UploadPartCopy'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const upload = await requireUpload(ctx);
  const n = partNumber(ctx);
  const source = await readableSource(ctx, header(ctx.headers, 'x-amz-copy-source') ?? '');
  checkCopySourceConditions(ctx.headers, source);
  const rangeHeader = header(ctx.headers, 'x-amz-copy-source-range');
  let range: { start: number; end: number } | undefined;
  if (rangeHeader !== undefined) {
    const parsed = /^bytes=\d+-\d+$/.test(rangeHeader.trim()) ? parseRange(rangeHeader, source.size) : undefined;
    if (parsed === undefined) {
      throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: rangeHeader });
    }
    if (parsed === 'unsatisfiable' || Number(rangeHeader.split('-')[1]) >= source.size) {
      throw new S3Error('InvalidRange', `Range specified is not valid for source object of size: ${source.size}`, { RangeRequested: rangeHeader, ActualObjectSize: String(source.size) });
    }
    range = parsed;
  }
  const encryption = partEncryption(ctx.req, ctx.headers, upload);
  const sourceKey = copyEncryption(ctx, source, encryption).sourceKey;
  const reader = await ctx.store.openObject(source.bucket, source.key, { versionId: source.versionId, customerKey: sourceKey?.key });
  if (!reader || reader.meta.etag !== source.etag) {
    reader?.close();
    throw new S3Error('NoSuchKey', 'The copy source changed or vanished during the copy');
  }
  let body: Readable;
  try {
    body = source.size === 0 ? Readable.from([]) : reader.stream(range);
  } catch (err) {
    reader.close();
    throw err;
  }
  const part = await storeCall(ctx, () => ctx.store.putPart({ uploadId: upload.uploadId, partNumber: n, body, encryption })).finally(() => reader.close());
  return xmlReply(doc('CopyPartResult', text('ETag', part.etag), text('LastModified', isoDate(part.lastModified)), checksumXml(part.checksum)), 200, { 'x-amz-copy-source-version-id': 'null', ...sseResponseHeaders(upload.sse) });
};

export const abortMultipartUpload: Handler<'AbortMultipartUpload'> = async (ctx) => {
  uploadAccess(ctx, await findUpload(ctx));
  const upload = await requireUpload(ctx);
  await storeCall(ctx, () => ctx.store.abortMultipartUpload(upload.uploadId));
  return emptyReply(204);
};

function maxParam(ctx: RequestContext, name: string): number {
  const raw = ctx.query.get(name);
  if (raw === null) return 1000;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(Number(raw), 1000);
}

export const listParts: Handler<'ListParts'> = async (ctx) => {
  uploadAccess(ctx, await findUpload(ctx));
  const upload = await requireUpload(ctx);
  const maxParts = maxParam(ctx, 'max-parts');
  const marker = partNumberMarker(ctx);
  const page = await ctx.store.listParts(upload.uploadId, { after: marker, maxParts });
  return xmlReply(
    doc(
      'ListPartsResult',
      text('Bucket', upload.bucket),
      text('Key', upload.key),
      text('UploadId', upload.uploadId),
      el('Initiator', text('ID', upload.owner), text('DisplayName', displayName(ctx, upload.owner))),
      ownerXml(ctx, upload.owner),
      text('StorageClass', 'STANDARD'),
      text('PartNumberMarker', marker),
      page.isTruncated ? text('NextPartNumberMarker', page.parts.at(-1)?.partNumber) : '',
      text('MaxParts', maxParts),
      text('IsTruncated', page.isTruncated),
      upload.checksumAlgorithm ? text('ChecksumAlgorithm', upload.checksumAlgorithm) + text('ChecksumType', upload.checksumType) : '',
      page.parts.map((p) => el('Part', text('PartNumber', p.partNumber), text('LastModified', isoDate(p.lastModified)), text('ETag', p.etag), text('Size', p.size), checksumXml(p.checksum))),
    ),
  );
};

export const listMultipartUploads: Handler<'ListMultipartUploads'> = async (ctx) => {
  bucketFor(ctx, 'READ');
  const q = ctx.query;
  const maxUploads = maxParam(ctx, 'max-uploads');
  const prefix = q.get('prefix') ?? undefined;
  const keyMarker = q.get('key-marker') ?? undefined;
  const uploadIdMarker = q.get('upload-id-marker') ?? undefined;
  const page = await ctx.store.listMultipartUploads(ctx.op.bucket, { prefix, keyMarker, uploadIdMarker, maxUploads });
  const last = page.uploads.at(-1);
  return xmlReply(
    doc(
      'ListMultipartUploadsResult',
      text('Bucket', ctx.op.bucket),
      text('KeyMarker', keyMarker ?? ''),
      text('UploadIdMarker', uploadIdMarker ?? ''),
      page.isTruncated && last ? text('NextKeyMarker', last.key) + text('NextUploadIdMarker', last.uploadId) : '',
      prefix === undefined ? '' : text('Prefix', prefix),
      text('MaxUploads', maxUploads),
      text('IsTruncated', page.isTruncated),
      page.uploads.map((u) =>
        el('Upload', text('Key', u.key), text('UploadId', u.uploadId), el('Initiator', text('ID', u.owner), text('DisplayName', displayName(ctx, u.owner))), ownerXml(ctx, u.owner), text('StorageClass', 'STANDARD'), text('Initiated', isoDate(u.initiated)), u.checksumAlgorithm ? text('ChecksumAlgorithm', u.checksumAlgorithm) : ''),
      ),
    ),
  );
};
