/**
 * Every console action that touches buckets or objects runs as the S3 operation it stands for,
 * through the S3 router and dispatch, with the signed-in key as its principal: ACLs, bucket
 * policies and key scopes decide exactly as they do for a signed S3 request.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { AuthResult, Principal } from '../auth/types.js';
import type { Reply } from '../s3/context.js';
import { dispatch } from '../s3/dispatch.js';
import { nextRequestId } from '../s3/handler.js';
import { ANONYMOUS, makeRequestContext } from '../s3/request-context.js';
import { route } from '../s3/router.js';
import { isS3Error } from '../errors/s3-error.js';
import type { SignedInCall } from './deps.js';

export interface S3Request {
  method: string;
  bucket?: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string | undefined>;
  /** A small body (XML document), or the incoming request itself to stream an upload's bytes. */
  body?: Buffer | string | IncomingMessage;
  /** Run without credentials, as a visitor would (is this object public?). */
  anonymous?: boolean;
}

/** A key as an S3 path: each segment percent-encoded, the slashes kept. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

export async function runS3(call: SignedInCall, r: S3Request): Promise<Reply> {
  const { deps } = call;
  const rawPath = r.bucket === undefined ? '/' : `/${encodeURIComponent(r.bucket)}${r.key === undefined ? '' : `/${encodeKey(r.key)}`}`;
  const query = new URLSearchParams(r.query);
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(r.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  const body = r.body === undefined || typeof r.body === 'string' || Buffer.isBuffer(r.body) ? Buffer.from(r.body ?? '') : undefined;
  if (body) {
    headers['content-length'] = String(body.length);
    // Some operations (DeleteObjects, PutBucketCors) require an integrity header on their XML.
    if (body.length > 0) headers['content-md5'] = createHash('md5').update(body).digest('base64');
  }
  const req = body ? bodyRequest(call.req, r.method, headers, body) : (r.body as IncomingMessage);
  const op = route({ method: r.method, rawPath, query, hostBucket: undefined, copySource: headers['x-amz-copy-source'] as string | undefined });
  const principal: Principal = { kind: 'user', credential: call.session.credential, signatureVersion: 4, presigned: false };
  const auth: AuthResult = r.anonymous ? ANONYMOUS : { principal, payload: { kind: 'unsigned' } };
  return dispatch(makeRequestContext({ requestId: nextRequestId(), req, op, auth, query, headers, store: deps.store, config: deps.config, lookup: deps.lookup }));
}

/** Runs the operation and returns its XML (or other small) body as text, releasing whatever the reply holds. */
export async function runS3Text(call: SignedInCall, r: S3Request): Promise<{ status: number; headers: Reply['headers']; text: string }> {
  const reply = await runS3(call, r);
  try {
    return { status: reply.status, headers: reply.headers ?? {}, text: await replyText(reply) };
  } finally {
    reply.onDone?.();
  }
}

/** Whether the operation succeeds (an S3 error is false; anything else is thrown). */
export async function s3Allows(call: SignedInCall, r: S3Request): Promise<boolean> {
  try {
    await runS3Text(call, r);
    return true;
  } catch (err) {
    if (isS3Error(err)) return false;
    throw err;
  }
}

async function replyText(reply: Reply): Promise<string> {
  const body = reply.body;
  if (body === undefined) {
    if (!reply.chunks) return '';
    const parts: Buffer[] = [];
    for await (const chunk of reply.chunks) {
      parts.push(Buffer.from(chunk.bytes));
      chunk.recycle();
    }
    return Buffer.concat(parts).toString('utf8');
  }
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * The body of a console action's S3 request, shaped as the handlers read requests: the JSON
 * call's body was already read, so this one carries the XML the operation takes, from the same
 * socket (the client's address still counts for bucket policy conditions).
 */
function bodyRequest(from: IncomingMessage, method: string, headers: IncomingHttpHeaders, body: Buffer): IncomingMessage {
  const stream = Readable.from(body.length === 0 ? [] : [body]);
  return Object.assign(stream, { headers, method, url: from.url, socket: from.socket, complete: true, httpVersion: '1.1' }) as unknown as IncomingMessage;
}
