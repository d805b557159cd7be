/**
 * CompleteMultipartUpload: the part list is parsed strictly (S3's rules: part numbers are
 * integers 1-10000 in strictly ascending order, each with an ETag), then the object points at
 * the chosen parts' blobs in one metadata transaction.
 */
import { customerKeyOf, partEncryption, sseResponseHeaders } from '../sse/headers.js';
import { createHash } from 'node:crypto';
import { S3Error } from '../../errors/s3-error.js';
import { xmlReply, type Handler, type Reply, type RequestContext } from '../context.js';
import { header } from '../headers.js';
import { child, children, childText, doc, parseXml, text } from '../xml.js';
import { bucketFor, storeCall } from './_common.js';
import { writePrecondition } from './object-put.js';
import { writtenVersionHeaders } from './versioning.js';
import { multipartChecksum } from './multipart-checksum.js';
import { MAX_PART_NUMBER, parsePartNumberXml } from './part-number.js';
import type { Checksum, ChecksumAlgorithm, ObjectMeta, PartInfo } from '../../storage/types.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

type ObjectCtx = RequestContext & { op: { bucket: string; key: string } };

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export function parseCompleteXml(body: string): RequestedPart[] {
  const root = child(parseXml(body), 'CompleteMultipartUpload');
  if (!root) throw new S3Error('MalformedXML');
  const list = children(root, 'Part');
  if (list.length === 0 || list.length > MAX_PART_NUMBER) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const parts = list.map((p) => {
    const etag = childText(p, 'ETag');
    if (etag === undefined) throw new S3Error('MalformedXML');
    const checksums: RequestedPart['checksums'] = {};
    for (const alg of ALGORITHMS) {
      const v = childText(p, `Checksum${alg}`);
      if (v !== undefined) checksums[alg] = v;
    }
    return { partNumber: parsePartNumberXml(childText(p, 'PartNumber')), etag: etag.replace(/^"|"$/g, '').replace(/&quot;/g, ''), checksums };
  });
  // Strictly ascending: a repeated number is out of order too (S3 rejects `1,1,3` rather than guess which part 1 was meant).
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder');
  }
  return parts;
}

const checksumHeaders = (c: Checksum | undefined): Record<string, string> => (c ? { [`x-amz-checksum-${c.algorithm.toLowerCase()}`]: c.value, 'x-amz-checksum-type': c.type } : {});
const checksumXml = (c: Checksum | undefined): string => (c ? text(`Checksum${c.algorithm}`, c.value) : '');

export const completeMultipartUpload: Handler<'CompleteMultipartUpload'> = async (ctx) => {
  bucketFor(ctx, 'WRITE');
  const id = ctx.query.get('uploadId') ?? '';
  const found = await ctx.store.getMultipartUpload(ctx.op.bucket, id);
  const requested = parseCompleteXml((await ctx.readBody(4 * 1024 * 1024)).toString('utf8'));
  if (!found || found.key !== ctx.op.key) return repeatedCompletion(ctx, id, requested);
  const upload = found;
  // A key sent with the completion must be the upload's own. None is needed: boto3's and the AWS
  // CLI's transfer managers send none (RGW requires one; test/conformance deselects that test).
  if (customerKeyOf(ctx.req, ctx.headers) !== undefined) partEncryption(ctx.req, ctx.headers, upload);
  const stored = new Map<number, PartInfo>();
  for (let after: number | undefined = 0; after !== undefined; ) {
    const page = await ctx.store.listParts(upload.uploadId, { after, maxParts: 1000 });
    for (const p of page.parts) stored.set(p.partNumber, p);
    after = page.isTruncated ? page.parts.at(-1)?.partNumber : undefined;
  }
  const chosen: PartInfo[] = [];
  for (const [i, want] of requested.entries()) {
    const part = stored.get(want.partNumber);
    if (!part || part.etag.replace(/^"|"$/g, '') !== want.etag) {
      // A completion racing this one (through another node) may have taken the parts meanwhile.
      if (!part && !(await ctx.store.getMultipartUpload(ctx.op.bucket, id))) throw new S3Error('NoSuchUpload', undefined, { UploadId: id });
      throw new S3Error('InvalidPart', undefined, { PartNumber: String(want.partNumber), UploadId: upload.uploadId });
    }
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

/**
 * Completing an upload that was already completed answers as the first completion did when the
 * key still holds that object (clients retry completions whose reply was lost).
 */
async function repeatedCompletion(ctx: ObjectCtx, uploadId: string, requested: { etag: string }[]): Promise<Reply> {
  const current = await ctx.store.headObject(ctx.op.bucket, ctx.op.key);
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
    { ...checksumHeaders(meta.checksum), ...writtenVersionHeaders(meta), ...sseResponseHeaders(meta.sse) },
  );
}
