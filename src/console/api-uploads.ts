/**
 * Uploads, always through S3's multipart operations, so that a large file goes up in parts,
 * and a dropped connection costs one part: the page asks which parts arrived and sends the rest.
 * Small files may use a plain PUT.
 */
import { badInput, ConsoleError } from './errors.js';
import type { ApiAnswer, Route, SignedInCall } from './deps.js';
import { boolField, readJson, stringField } from './http.js';
import { child, children, childText, parseXml } from '../s3/xml.js';
import { runS3Text } from './s3-call.js';
import { describeObject, requiredKey } from './api-objects.js';
import { OCTET_STREAM, typeByName } from '../media/content-type.js';

const MIB = 1024 * 1024;
/** S3 allows 10,000 parts; parts are at least 8 MiB (S3's minimum is 5), whole MiB. */
export function partSizeFor(size: number): number {
  return Math.max(8 * MIB, Math.ceil(size / 10_000 / MIB) * MIB);
}

/** The type `offload sync` would give a file of this name. */
export function guessContentType(key: string): string {
  return typeByName(key) ?? OCTET_STREAM;
}

async function startUpload(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const body = await readJson(call.req);
  const key = stringField(body, 'key', { max: 1024 })!;
  if (key === '') throw badInput('"key" (the object\'s name) is required.');
  const size = body.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > 5 * 1024 ** 4) throw badInput('"size" is the file\'s size in bytes (at most 5 TiB).');
  const contentType = stringField(body, 'contentType', { optional: true, max: 256 }) || guessContentType(key);
  const headers = { 'content-type': contentType, 'x-amz-acl': boolField(body, 'public') ? 'public-read' : undefined };
  const created = child(parseXml((await runS3Text(call, { method: 'POST', bucket, key, query: { uploads: '' }, headers })).text), 'InitiateMultipartUploadResult');
  return { status: 201, body: { uploadId: childText(created, 'UploadId'), key, contentType, partSize: partSizeFor(size) } };
}

/** The upload's key, for the S3 request path (an id from another bucket is no upload here). */
async function uploadKey(call: SignedInCall): Promise<string> {
  const upload = await call.deps.store.getMultipartUpload(call.params.bucket!, call.params.uploadId!);
  if (!upload || upload.bucket !== call.params.bucket) throw new ConsoleError(404, 'NoSuchUpload', 'That upload does not exist any more (it was completed or cancelled).');
  return upload.key;
}

async function putPart(call: SignedInCall): Promise<ApiAnswer> {
  const n = call.params.partNumber!;
  if (!/^\d{1,5}$/.test(n) || Number(n) < 1 || Number(n) > 10_000) throw badInput('A part number is 1 to 10000.');
  const key = await uploadKey(call);
  const reply = await runS3Text(call, {
    method: 'PUT', bucket: call.params.bucket!, key, query: { partNumber: n, uploadId: call.params.uploadId! },
    headers: { 'content-length': call.req.headers['content-length'], 'content-md5': call.req.headers['content-md5'] as string | undefined },
    body: call.req,
  });
  return { body: { partNumber: Number(n), etag: reply.headers?.ETag } };
}

async function listParts(call: SignedInCall): Promise<ApiAnswer> {
  const key = await uploadKey(call);
  const parts: { partNumber: number; size: number; etag: string }[] = [];
  let marker = '0';
  for (;;) {
    const page = child(parseXml((await runS3Text(call, { method: 'GET', bucket: call.params.bucket!, key, query: { uploadId: call.params.uploadId!, 'part-number-marker': marker } })).text), 'ListPartsResult');
    for (const p of children(page, 'Part')) parts.push({ partNumber: Number(childText(p, 'PartNumber')), size: Number(childText(p, 'Size')), etag: childText(p, 'ETag') ?? '' });
    if (childText(page, 'IsTruncated') !== 'true') break;
    marker = childText(page, 'NextPartNumberMarker') ?? String(parts.at(-1)?.partNumber ?? 0);
  }
  return { body: { key, uploadId: call.params.uploadId, parts } };
}

async function complete(call: SignedInCall): Promise<ApiAnswer> {
  const key = await uploadKey(call);
  const body = await readJson(call.req);
  const parts = body.parts;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > 10_000) throw badInput('"parts" is the list of { partNumber, etag } uploaded.');
  const xml = parts.map((p: unknown) => {
    const { partNumber, etag } = p as { partNumber?: unknown; etag?: unknown };
    if (!Number.isInteger(partNumber) || typeof etag !== 'string' || !/^"?[0-9a-f-]+"?$/i.test(etag)) throw badInput('Each part is { partNumber, etag }.');
    return `<Part><PartNumber>${partNumber as number}</PartNumber><ETag>${etag}</ETag></Part>`;
  });
  const bucket = call.params.bucket!;
  await runS3Text(call, { method: 'POST', bucket, key, query: { uploadId: call.params.uploadId! }, body: `<CompleteMultipartUpload>${xml.join('')}</CompleteMultipartUpload>` });
  return { body: await describeObject(call, bucket, key) };
}

async function abort(call: SignedInCall): Promise<ApiAnswer> {
  const key = await uploadKey(call);
  await runS3Text(call, { method: 'DELETE', bucket: call.params.bucket!, key, query: { uploadId: call.params.uploadId! } });
  return { body: { aborted: call.params.uploadId } };
}

/** A small file in one request: the body is the file, its Content-Type the object's (guessed when absent). */
async function putSmall(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const key = requiredKey(call);
  const sent = call.req.headers['content-type'];
  const contentType = sent === undefined || sent === '' || sent === OCTET_STREAM ? guessContentType(key) : sent;
  await runS3Text(call, {
    method: 'PUT', bucket, key, body: call.req,
    headers: { 'content-length': call.req.headers['content-length'], 'content-type': contentType, 'x-amz-acl': call.query.get('public') === '1' ? 'public-read' : undefined },
  });
  return { status: 201, body: await describeObject(call, bucket, key) };
}

export const uploadRoutes: Route[] = [
  { method: 'POST', path: '/buckets/:bucket/uploads', handler: startUpload },
  { method: 'PUT', path: '/buckets/:bucket/uploads/:uploadId/parts/:partNumber', handler: putPart },
  { method: 'GET', path: '/buckets/:bucket/uploads/:uploadId', handler: listParts },
  { method: 'POST', path: '/buckets/:bucket/uploads/:uploadId/complete', handler: complete },
  { method: 'DELETE', path: '/buckets/:bucket/uploads/:uploadId', handler: abort },
  { method: 'PUT', path: '/buckets/:bucket/put', handler: putSmall },
];
