/**
 * Multipart uploads. Parts stream to their own blobs; completing points the object at those
 * blobs without copying a byte, in one metadata transaction.
 */
import { newObjectOwner, requestedAclHeaders } from '../bucket-controls.js';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Error } from '../errors.js';
import { emptyReply, xmlReply, type Handler, type Reply, type RequestContext } from '../context.js';
import { header, objectHeadersFromRequest, tagsFromHeader } from '../headers.js';
import { child, children, childText, doc, el, isoDate, parseXml, text } from '../xml.js';
import { bucketFor, displayName, ownerXml, storeCall } from './_common.js';
import { checkCopySourceConditions, readableSource } from './copy.js';
import { parseRange } from './object-get.js';
import { declaredSize, validateKey, verifiedBody, writePrecondition } from './object-put.js';
import { multipartChecksum } from './multipart-checksum.js';
import type { Checksum, ChecksumAlgorithm, MultipartUpload, ObjectMeta, PartInfo } from '../../storage/types.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;
const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

type ObjectCtx = RequestContext & { op: { bucket: string; key: string } };

function requireUpload(ctx: ObjectCtx): MultipartUpload {
  const id = ctx.query.get('uploadId') ?? '';
  const upload = ctx.store.getMultipartUpload(ctx.op.bucket, id);
  if (!upload || upload.key !== ctx.op.key) throw new S3Error('NoSuchUpload', undefined, { UploadId: id });
  return upload;
}

function partNumber(ctx: RequestContext): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PARTS) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  return n;
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
    }),
  );
  const extra: Record<string, string> = algorithm ? { 'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': checksumType! } : {};
  return xmlReply(doc('InitiateMultipartUploadResult', text('Bucket', upload.bucket), text('Key', upload.key), text('UploadId', upload.uploadId)), 200, extra);
};

export const uploadPart: Handler<'UploadPart'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const upload = requireUpload(ctx);
  const n = partNumber(ctx);
  const size = declaredSize(ctx.headers, MAX_PART_SIZE);
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
      get checksum() {
        const value = requested ? decoded.checksum() : undefined;
        return value ? { ...value, type: 'COMPOSITE' as const } : undefined;
      },
    }),
  );
  return emptyReply(200, { ETag: part.etag, ...checksumHeaders(part.checksum) });
};

export const uploadPartCopy: Handler<'UploadPartCopy'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const upload = requireUpload(ctx);
  const n = partNumber(ctx);
  const source = readableSource(ctx, header(ctx.headers, 'x-amz-copy-source') ?? '');
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
  const reader = await ctx.store.openObject(source.bucket, source.key);
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
  const part = await storeCall(ctx, () => ctx.store.putPart({ uploadId: upload.uploadId, partNumber: n, body })).finally(() => reader.close());
  return xmlReply(doc('CopyPartResult', text('ETag', part.etag), text('LastModified', isoDate(part.lastModified)), checksumXml(part.checksum)), 200, { 'x-amz-copy-source-version-id': 'null' });
};

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

function parseCompleteXml(body: string): RequestedPart[] {
  const root = child(parseXml(body), 'CompleteMultipartUpload');
  if (!root) throw new S3Error('MalformedXML');
  const parts = children(root, 'Part').map((p) => {
    const n = Number(childText(p, 'PartNumber'));
    const etag = childText(p, 'ETag');
    if (!Number.isInteger(n) || etag === undefined) throw new S3Error('MalformedXML');
    const checksums: RequestedPart['checksums'] = {};
    for (const alg of ALGORITHMS) {
      const v = childText(p, `Checksum${alg}`);
      if (v !== undefined) checksums[alg] = v;
    }
    return { partNumber: n, etag: etag.replace(/^"|"$/g, '').replace(/&quot;/g, ''), checksums };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  return parts;
}

export const completeMultipartUpload: Handler<'CompleteMultipartUpload'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const id = ctx.query.get('uploadId') ?? '';
  const found = ctx.store.getMultipartUpload(ctx.op.bucket, id);
  const requested = dedupeParts(parseCompleteXml((await ctx.readBody(4 * 1024 * 1024)).toString('utf8')));
  if (!found || found.key !== ctx.op.key) return repeatedCompletion(ctx, id, requested);
  const upload = found;
  const stored = new Map<number, PartInfo>();
  for (let after: number | undefined = 0; after !== undefined; ) {
    const page = ctx.store.listParts(upload.uploadId, { after, maxParts: 1000 });
    for (const p of page.parts) stored.set(p.partNumber, p);
    after = page.isTruncated ? page.parts.at(-1)?.partNumber : undefined;
  }
  // S3 rejects a list out of order before it looks at any part.
  for (let i = 1; i < requested.length; i++) {
    if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder');
  }
  const chosen: PartInfo[] = [];
  for (const [i, want] of requested.entries()) {
    const part = stored.get(want.partNumber);
    if (!part || part.etag.replace(/^"|"$/g, '') !== want.etag) throw new S3Error('InvalidPart', undefined, { PartNumber: String(want.partNumber), UploadId: upload.uploadId });
    const sent = upload.checksumAlgorithm ? want.checksums[upload.checksumAlgorithm] : undefined;
    if (sent !== undefined && part.checksum && sent !== part.checksum.value) throw new S3Error('InvalidPart', undefined, { PartNumber: String(want.partNumber) });
    if (i < requested.length - 1 && part.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, { PartNumber: String(want.partNumber), ProposedSize: String(part.size), MinSizeAllowed: String(MIN_PART_SIZE) });
    }
    chosen.push(part);
  }
  const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${chosen.length}"`;
  const checksum = upload.checksumAlgorithm ? multipartChecksum(upload.checksumAlgorithm, upload.checksumType ?? 'COMPOSITE', chosen) : undefined;
  // A client may state the checksum it expects for the whole object.
  if (checksum) {
    const stated = header(ctx.headers, `x-amz-checksum-${checksum.algorithm.toLowerCase()}`);
    if (stated !== undefined && stated !== checksum.value && stated.replace(/-\d+$/, '') !== checksum.value.replace(/-\d+$/, '')) {
      throw new S3Error('BadDigest', `The ${checksum.algorithm} you specified for the object did not match the calculated checksum.`);
    }
  }
  const meta = await storeCall(ctx, () =>
    ctx.store.completeMultipartUpload({
      uploadId: upload.uploadId,
      parts: chosen.map((p) => ({ partNumber: p.partNumber, size: p.size, segment: p.segment })),
      etag,
      checksum,
      precondition: writePrecondition(ctx.headers),
    }),
  );
  return completionReply(ctx, meta);
};

/** The sent list with repeated part numbers collapsed to their last entry (what S3 accepts). */
function dedupeParts<T extends { partNumber: number }>(parts: T[]): T[] {
  const out: T[] = [];
  for (const p of parts) {
    if (out.length > 0 && out[out.length - 1]!.partNumber === p.partNumber) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/**
 * Completing an upload that was already completed answers as the first completion did when the
 * key still holds that object (clients retry completions whose reply was lost).
 */
function repeatedCompletion(ctx: ObjectCtx, uploadId: string, requested: { etag: string }[]): Reply {
  const current = ctx.store.headObject(ctx.op.bucket, ctx.op.key);
  const md5s = Buffer.concat(requested.map((p) => Buffer.from(p.etag, 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${requested.length}"`;
  if (!current || current.etag !== etag) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  return completionReply(ctx, current);
}

function completionReply(ctx: ObjectCtx, meta: ObjectMeta): Reply {
  const location = `http://${header(ctx.headers, 'host') ?? `${ctx.config.host}:${ctx.config.port}`}/${ctx.op.bucket}/${encodeURIComponent(ctx.op.key).replace(/%2F/g, '/')}`;
  return xmlReply(
    doc('CompleteMultipartUploadResult', text('Location', location), text('Bucket', ctx.op.bucket), text('Key', ctx.op.key), text('ETag', meta.etag), checksumXml(meta.checksum), meta.checksum ? text('ChecksumType', meta.checksum.type) : ''),
    200,
    checksumHeaders(meta.checksum),
  );
}

export const abortMultipartUpload: Handler<'AbortMultipartUpload'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const upload = requireUpload(ctx);
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
  bucketFor(ctx, 'READ');
  const upload = requireUpload(ctx);
  const maxParts = maxParam(ctx, 'max-parts');
  const marker = Number(ctx.query.get('part-number-marker') ?? '0') || 0;
  const page = ctx.store.listParts(upload.uploadId, { after: marker, maxParts });
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
  const page = ctx.store.listMultipartUploads(ctx.op.bucket, { prefix, keyMarker, uploadIdMarker, maxUploads });
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
