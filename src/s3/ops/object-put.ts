/** PutObject: streamed to the engine, verified on the way, acknowledged once durable. */
import { newObjectOwner, requestedAclHeaders } from '../access/public-access-controls.js';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors/s3-error.js';
import type { Handler, RequestContext } from '../context.js';
import { header, objectHeadersFromRequest, tagsFromHeader } from '../headers.js';
import { bucketFor, storeCall } from './_common.js';
import { checksumRequestFromHeaders, decodeBody, verifyContentMd5 } from '../../auth/index.js';
import type { ObjectMeta } from '../../storage/types.js';
import { writtenVersionHeaders } from './versioning.js';
import { expirationHeaders } from './lifecycle.js';
import { sseResponseHeaders } from '../sse/headers.js';
import { requestedEncryption } from '../sse/write.js';

export const MAX_PUT_SIZE = 5 * 1024 ** 3;
export const MAX_KEY_BYTES = 1024;

export function validateKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { Size: String(Buffer.byteLength(key)), MaxSizeAllowed: String(MAX_KEY_BYTES) });
}

/**
 * The payload size the client declared: decoded length for aws-chunked bodies, else Content-Length.
 * A plain `Transfer-Encoding: chunked` body declares nothing, and S3 refuses it (411): an upload
 * of unknown size is what multipart uploads are for. The body is counted as it streams too.
 */
export function declaredSize(headers: IncomingHttpHeaders, maxSize = MAX_PUT_SIZE): number {
  const decoded = header(headers, 'x-amz-decoded-content-length');
  const raw = decoded ?? header(headers, 'content-length');
  if (raw === undefined) throw new S3Error('MissingContentLength');
  if (!/^\d{1,19}$/.test(raw)) throw new S3Error('InvalidArgument', `Invalid length: ${raw.slice(0, 64)}`, { ArgumentName: decoded === undefined ? 'Content-Length' : 'x-amz-decoded-content-length' });
  const size = Number(raw);
  if (size > maxSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: raw, MaxSizeAllowed: String(maxSize) });
  return size;
}

/** Conditional writes: `If-None-Match: *` and `If-Match: <etag>`, checked inside the engine's commit. */
export function writePrecondition(headers: IncomingHttpHeaders): ((current: ObjectMeta | undefined) => void) | undefined {
  const ifNoneMatch = header(headers, 'if-none-match');
  const ifMatch = header(headers, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'If-None-Match on writes supports only "*"', { Header: 'If-None-Match' });
  }
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
    if (ifMatch !== undefined) {
      if (!current) throw new S3Error('NoSuchKey');
      const wanted = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
      if (!wanted.includes('*') && !wanted.includes(current.etag.replace(/^"|"$/g, ''))) {
        throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
      }
    }
  };
}

/** Decodes and verifies the body; returns the stream plus checks for after the engine's MD5. */
export function verifiedBody(ctx: RequestContext, expectedSize: number | undefined) {
  // Before decodeBody, which tells an Expect: 100-continue client to send the body.
  ctx.store.assertRoomForWrite?.();
  const checksum = checksumRequestFromHeaders(ctx.headers);
  const decoded = decodeBody(ctx.req, ctx.payload, { headers: ctx.headers, checksum, maxLength: expectedSize });
  const contentMd5 = header(ctx.headers, 'content-md5');
  if (contentMd5 !== undefined) verifyContentMd5Format(contentMd5);
  const beforeCommit = ({ md5, size }: { md5: Buffer; size: number }) => {
    if (expectedSize !== undefined && size !== expectedSize) throw new S3Error('IncompleteBody');
    if (contentMd5 !== undefined) verifyContentMd5(contentMd5, md5);
  };
  return { decoded, checksum, beforeCommit };
}

function verifyContentMd5Format(value: string): void {
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== 16 || raw.toString('base64') !== value.trim()) throw new S3Error('InvalidDigest');
}

export const putObject: Handler<'PutObject'> = async (ctx) => {
  const { bucket: bucketName, key } = ctx.op;
  bucketFor(ctx, 'WRITE');
  validateKey(key);
  const size = declaredSize(ctx.headers);
  const headers = objectHeadersFromRequest(ctx.headers);
  const acl = requestedAclHeaders(ctx.store, bucketName, ctx.headers) ?? { canned: 'private' };
  const tags = tagsFromHeader(header(ctx.headers, 'x-amz-tagging'));
  const precondition = writePrecondition(ctx.headers);
  const encryption = requestedEncryption(ctx, bucketName);
  const { decoded, checksum, beforeCommit } = verifiedBody(ctx, size);
  const owner = newObjectOwner(ctx.store, bucketName, ctx.principal.kind === 'user' ? ctx.principal.credential.owner : ctx.config.rootOwner.id, acl);
  const meta = await storeCall(ctx, () =>
    ctx.store.putObject({
      ...headers,
      bucket: bucketName,
      key,
      body: decoded.stream,
      owner,
      acl,
      tags,
      precondition,
      beforeCommit,
      encryption,
      get checksum() {
        const value = checksum ? decoded.checksum() : undefined;
        return value ? { ...value, type: 'FULL_OBJECT' as const } : undefined;
      },
    }),
  );
  const reply: Record<string, string> = { ETag: meta.etag, ...writtenVersionHeaders(meta), ...expirationHeaders(ctx, meta), ...sseResponseHeaders(meta.sse) };
  if (meta.checksum) {
    reply[`x-amz-checksum-${meta.checksum.algorithm.toLowerCase()}`] = meta.checksum.value;
    reply['x-amz-checksum-type'] = meta.checksum.type;
  }
  return { status: 200, headers: reply };
};

/** MD5 of a buffer in base64, as Content-MD5 carries it. */
export function md5Base64(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}
