/** GetObject and HeadObject: ranges, conditional requests, response overrides, checksums, partNumber. */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors/s3-error.js';
import type { Handler, Reply, RequestContext } from '../context.js';
import { header, httpDate, objectResponseHeaders, validHeaderValue } from '../headers.js';
import { objectAccess, requireBucket } from './_common.js';
import { parsePartNumber } from './part-number.js';
import type { BucketInfo, ObjectMeta, ObjectReader } from '../../storage/types.js';
import { applyCacheRules } from '../../media/cache-rules.js';
import { acceptedEncodings, chooseVariant } from '../../media/variants.js';
import { compressedBody, eligibleOnTheFly, knownCompressed } from '../../media/compress.js';
import { memoryReader } from '../../storage/reader.js';
import { requestedVersion, throwAbsent, versionHeaders } from './versioning.js';
import { expirationHeaders } from './lifecycle.js';
import { customerKeyOf, readKeyFor, sseResponseHeaders } from '../sse/headers.js';

type ByteRange = { start: number; end: number };

/** Bodies up to this size are read whole and sent with one write (see getObject). */
const WHOLE_READ_LIMIT = 2 * 1024 * 1024;

/**
 * S3 honours one `bytes=` range. Syntax it cannot use is ignored (the whole object is sent);
 * a range that starts past the end is 416.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes=(\d*)-(\d*)\s*$/.exec(value);
  if (!m) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function etagMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, '');
  return list.split(',').some((raw) => {
    const candidate = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return candidate === '*' || candidate === bare;
  });
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The headers a 304 repeats from the 200 it stands for, so caches keep their freshness rules (RFC 9110 section 15.4.5). */
const NOT_MODIFIED_HEADERS = ['Cache-Control', 'Expires', 'Vary', 'Content-Location'];

/**
 * RFC 9110 section 13.2.2 order, which is what S3 follows: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
 * `answer` holds the headers the 200 would carry; a 304 repeats the caching ones.
 */
export function checkConditions(headers: IncomingHttpHeaders, meta: ObjectMeta, answer: Record<string, string | number | undefined> = {}): void {
  const lastModifiedSec = Math.floor(meta.lastModified / 1000) * 1000;
  const ifMatch = header(headers, 'if-match');
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, meta.etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else {
    const since = parseHttpDate(header(headers, 'if-unmodified-since'));
    if (since !== undefined && lastModifiedSec > since) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  const notModified = () => {
    const repeated: Record<string, string> = { ETag: meta.etag, 'Last-Modified': httpDate(meta.lastModified) };
    for (const name of NOT_MODIFIED_HEADERS) if (answer[name] !== undefined) repeated[name] = String(answer[name]);
    return new S3Error('NotModified', undefined, {}, repeated);
  };
  const ifNoneMatch = header(headers, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, meta.etag)) throw notModified();
  } else {
    const since = parseHttpDate(header(headers, 'if-modified-since'));
    if (since !== undefined && lastModifiedSec <= since) throw notModified();
  }
}

const OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

function applyOverrides(ctx: RequestContext, headers: Record<string, string | number | undefined>): void {
  for (const [param, name] of Object.entries(OVERRIDES)) {
    const value = ctx.query.get(param);
    if (value === null) continue;
    if (ctx.principal.kind !== 'user') throw new S3Error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
    // A CR/LF here would be header injection; Node refuses to write it, which used to be a 500 per request.
    headers[name] = validHeaderValue(param, value);
  }
}

/** The byte range a `partNumber` query selects, plus the part count to report. */
function partRange(ctx: RequestContext, meta: ObjectMeta): { range?: ByteRange; partsCount?: number } {
  const raw = ctx.query.get('partNumber');
  if (raw === null) return {};
  const n = parsePartNumber(raw);
  const sizes = meta.partSizes ?? [meta.size];
  if (n > sizes.length) throw new S3Error('InvalidPartNumber');
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i]!;
  const size = sizes[n - 1]!;
  const partsCount = meta.partSizes ? sizes.length : undefined;
  return { range: size === 0 ? undefined : { start, end: start + size - 1 }, partsCount };
}

/**
 * If-Range (RFC 9110 section 13.1.5): the range applies only while the object is the one the
 * client has part of (a strong ETag match, or exactly its Last-Modified); otherwise the whole
 * object is sent, so a resumed download never splices two versions.
 */
function rangeStillApplies(value: string | undefined, meta: ObjectMeta): boolean {
  if (value === undefined) return true;
  const validator = value.trim();
  if (validator.startsWith('W/')) return false;
  if (validator.startsWith('"')) return validator === meta.etag;
  const date = parseHttpDate(validator);
  return date !== undefined && date === Math.floor(meta.lastModified / 1000) * 1000;
}

function readReply(ctx: RequestContext & { op: { key: string } }, meta: ObjectMeta, vary = false): { reply: Reply; range?: ByteRange } {
  const headers = { ...objectResponseHeaders(meta), ...sseResponseHeaders(meta.sse) };
  applyCacheRules(ctx.store, meta, headers);
  if (vary) headers.Vary = 'Accept-Encoding';
  checkConditions(ctx.headers, meta, headers);
  applyOverrides(ctx, headers);
  const part = partRange(ctx, meta);
  // After the part number's check (S3's order); before any byte is read. SSE-S3 needs no header on reads.
  if (header(ctx.headers, 'x-amz-server-side-encryption') !== undefined) throw new S3Error('InvalidArgument', 'x-amz-server-side-encryption is not applicable to GET or HEAD requests', { ArgumentName: 'x-amz-server-side-encryption' });
  readKeyFor(meta, customerKeyOf(ctx.req, ctx.headers));
  if (part.partsCount !== undefined) headers['x-amz-mp-parts-count'] = part.partsCount;
  let range = part.range;
  const rangeHeader = header(ctx.headers, 'range');
  if (range === undefined && rangeHeader !== undefined && ctx.query.get('partNumber') === null && rangeStillApplies(header(ctx.headers, 'if-range'), meta)) {
    const parsed = parseRange(rangeHeader, meta.size);
    if (parsed === 'unsatisfiable') {
      throw new S3Error('InvalidRange', undefined, { RangeRequested: rangeHeader, ActualObjectSize: String(meta.size) }, { 'Content-Range': `bytes */${meta.size}` });
    }
    range = parsed;
  }
  if (meta.checksum && range === undefined && header(ctx.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    headers[`x-amz-checksum-${meta.checksum.algorithm.toLowerCase()}`] = meta.checksum.value;
    headers['x-amz-checksum-type'] = meta.checksum.type;
  }
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
    headers['Content-Length'] = range.end - range.start + 1;
    return { reply: { status: 206, headers }, range };
  }
  headers['Content-Length'] = meta.size;
  return { reply: { status: 200, headers } };
}

export const getObject: Handler<'GetObject'> = async (ctx) => {
  const bucket = requireBucket(ctx);
  const versionId = requestedVersion(ctx);
  const customerKey = customerKeyOf(ctx.req, ctx.headers);
  const reader = await ctx.store.openObject(ctx.op.bucket, ctx.op.key, { versionId, customerKey: customerKey?.key });
  const fromStore = (r: ObjectReader | undefined) => storedObject(ctx, bucket, r, versionId);
  // An origin bucket (src/origin/) answers a missing or stale key from its origin, the rest from
  // here; a request for one version is always answered from the store.
  return (versionId === undefined ? ctx.config.origin?.get(ctx, reader, fromStore) : undefined) ?? fromStore(reader);
};

async function storedObject(ctx: Parameters<Handler<'GetObject'>>[0], bucket: BucketInfo, found: ObjectReader | undefined, versionId: string | undefined): Promise<Reply> {
  if (!found) return throwAbsent(ctx, bucket, versionId);
  let reader = found;
  try {
    objectAccess(ctx, bucket, reader.meta, 'READ');
    const version = versionHeaders(ctx, reader.meta);
    const { meta, vary, variantReader } = await representation(ctx, reader);
    if (variantReader) {
      reader.close();
      reader = variantReader;
    }
    const { reply, range } = readReply(ctx, meta, vary);
    Object.assign(reply.headers!, version);
    const open = reader!;
    const empty = meta.size === 0 || (range !== undefined && range.end < range.start);
    const inMemory = empty ? undefined : open.bytes(range);
    // Bytes held in memory pin nothing; only a reader over files has descriptors to release.
    if (empty || inMemory !== undefined) {
      open.close();
      // An SSE-C answer is never one a repeat may reuse without its key.
      const wholeBlob = inMemory !== undefined && range === undefined && meta.segments.length === 1 && !meta.sse?.customer ? meta.segments[0]!.blobId : undefined;
      return { ...reply, body: inMemory, blobId: wholeBlob };
    }
    const length = range ? range.end - range.start + 1 : meta.size;
    if (length <= WHOLE_READ_LIMIT) {
      // Medium bodies: one read into one buffer and one write beat a stream's many small steps.
      let whole;
      try {
        whole = await open.read(range);
      } finally {
        open.close();
      }
      return { ...reply, body: whole.bytes, onDone: whole.recycle };
    }
    return { ...reply, chunks: open.chunks(range), onDone: () => open.close() };
  } catch (err) {
    reader?.close();
    throw err;
  }
}

export const headObject: Handler<'HeadObject'> = async (ctx) => {
  const bucket = requireBucket(ctx);
  const versionId = requestedVersion(ctx);
  const stored = await ctx.store.headObject(ctx.op.bucket, ctx.op.key, versionId === undefined ? undefined : { versionId });
  const fromStore = async (found: ObjectMeta | undefined): Promise<Reply> => {
    if (!found || found.deleteMarker) return throwAbsent(ctx, bucket, versionId, found);
    const identity = objectAccess(ctx, bucket, found, 'READ');
    const { meta, vary } = await headRepresentation(ctx, identity, isRanged(ctx));
    const { reply } = readReply(ctx, meta, vary);
    Object.assign(reply.headers!, versionHeaders(ctx, identity), expirationHeaders(ctx, identity));
    return reply;
  };
  return (versionId === undefined ? ctx.config.origin?.head(ctx, stored, fromStore) : undefined) ?? fromStore(stored);
};

function isRanged(ctx: RequestContext): boolean {
  return header(ctx.headers, 'range') !== undefined || ctx.query.get('partNumber') !== null;
}

/** The identity object, or its precompressed variant (pinned by its own reader) when the client accepts it. */
async function representation(ctx: RequestContext, identity: ObjectReader): Promise<{ meta: ObjectMeta; vary: boolean; variantReader?: ObjectReader }> {
  const ranged = isRanged(ctx);
  // Encrypted objects are sent as stored: no precompressed variant (encrypted or not) stands in for them.
  if (identity.meta.sse) return { meta: identity.meta, vary: false };
  const { variant, vary } = await chooseVariant(ctx.store, identity.meta, ctx.headers, { ranged });
  if (!variant) return onTheFly(ctx, identity, vary, ranged);
  const variantReader = await ctx.store.openObject(variant.meta.bucket, variant.key);
  // Gone between the lookup and the open: the identity bytes are always a correct answer.
  if (!variantReader) return { meta: identity.meta, vary };
  const meta = { ...variant.meta, size: variantReader.meta.size, segments: variantReader.meta.segments };
  return { meta, vary, variantReader };
}

async function onTheFly(ctx: RequestContext, identity: ObjectReader, vary: boolean, ranged: boolean): Promise<{ meta: ObjectMeta; vary: boolean; variantReader?: ObjectReader }> {
  if (vary || !ctx.config.compressOnTheFly || !eligibleOnTheFly(identity.meta)) return { meta: identity.meta, vary };
  const encoding = ranged ? undefined : acceptedEncodings(header(ctx.headers, 'accept-encoding'))[0];
  if (encoding === undefined) return { meta: identity.meta, vary: true };
  const body = await compressedBody(identity, encoding);
  if (body === null) return { meta: identity.meta, vary: true };
  const meta = encodedMeta(identity.meta, encoding, body.length);
  return { meta, vary: true, variantReader: memoryReader(meta, body) };
}

function encodedMeta(identity: ObjectMeta, encoding: 'br' | 'gzip', size: number): ObjectMeta {
  return { ...identity, size, segments: [], partSizes: undefined, checksum: undefined, etag: `${identity.etag.slice(0, -1)}-${encoding}"`, contentEncoding: encoding };
}

/** HEAD answers with the representation GET would send, when it is known without compressing. */
async function headRepresentation(ctx: RequestContext, identity: ObjectMeta, ranged: boolean): Promise<{ meta: ObjectMeta; vary: boolean }> {
  if (identity.sse) return { meta: identity, vary: false };
  const { variant, vary } = await chooseVariant(ctx.store, identity, ctx.headers, { ranged });
  if (variant) return { meta: variant.meta, vary };
  if (vary || !ctx.config.compressOnTheFly || !eligibleOnTheFly(identity)) return { meta: identity, vary };
  const encoding = ranged ? undefined : acceptedEncodings(header(ctx.headers, 'accept-encoding'))[0];
  const known = encoding === undefined ? undefined : knownCompressed(identity, encoding);
  return { meta: known ? encodedMeta(identity, encoding!, known.length) : identity, vary: true };
}
