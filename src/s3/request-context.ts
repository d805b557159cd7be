/**
 * The one builder of a `RequestContext`: the S3 API path and the website endpoint both make
 * theirs here, so a handler sees the same shape (and the same body reader) from either.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { checksumRequestFromHeaders, decodeBody, verifyContentMd5 } from '../auth/index.js';
import type { AuthResult, CredentialLookup } from '../auth/types.js';
import type { Store } from '../storage/types.js';
import type { RequestContext, ServerConfig } from './context.js';
import { header } from './headers.js';
import type { Operation } from './router.js';

/** An unsigned request (website visitors, CORS preflights). */
export const ANONYMOUS: AuthResult = { principal: { kind: 'anonymous' }, payload: { kind: 'unsigned' } };

export interface ContextInput<O> {
  requestId: string;
  req: IncomingMessage;
  op: O;
  auth: AuthResult;
  query: URLSearchParams;
  /** The request's headers, with a presigned URL's hoisted x-amz-* parameters (hoisted-headers.ts). */
  headers: IncomingHttpHeaders;
  store: Store;
  config: ServerConfig;
  lookup?: CredentialLookup;
}

export function makeRequestContext<O extends Operation>(input: ContextInput<O>): RequestContext<O> {
  const ctx: RequestContext<O> = {
    requestId: input.requestId,
    req: input.req,
    op: input.op,
    principal: input.auth.principal,
    payload: input.auth.payload,
    auth: input.auth,
    query: input.query,
    headers: input.headers,
    store: input.store,
    config: input.config,
    readBody: (limit = 1024 * 1024) => readWholeBody(ctx, limit),
    lookup: input.lookup,
  };
  return ctx;
}

/** How much of an oversized XML body is read (and dropped) before the error is answered. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/** Small bodies (XML documents) read whole, through the same verification as object bodies. */
async function readWholeBody(ctx: Pick<RequestContext, 'op' | 'req' | 'payload' | 'headers'>, limit: number): Promise<Buffer> {
  // On CompleteMultipartUpload the checksum headers describe the whole object, not this XML.
  const checksum = ctx.op.op === 'CompleteMultipartUpload' ? undefined : checksumRequestFromHeaders(ctx.headers);
  const decoded = decodeBody(ctx.req, ctx.payload, { headers: ctx.headers, checksum });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of decoded.stream) {
      size += (chunk as Buffer).length;
      // Past the limit, a modest rest is read and dropped: answering mid-upload would reset the
      // connection under the client before it reads the error.
      if (size > limit + DRAIN_LIMIT) break;
      if (size <= limit) chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (size <= limit) throw err;
  }
  if (size > limit) {
    decoded.stream.destroy();
    throw new S3Error('MaxMessageLengthExceeded');
  }
  const body = Buffer.concat(chunks);
  const contentMd5 = header(ctx.headers, 'content-md5');
  if (contentMd5 !== undefined) {
    verifyContentMd5(contentMd5, createHash('md5').update(body).digest());
  }
  return body;
}
