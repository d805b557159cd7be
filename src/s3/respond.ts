/** The one place that writes responses: replies, S3 error documents, request ids. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { S3Error, isS3Error } from '../errors/s3-error.js';
import { s3ErrorFromStore } from '../errors/store-error.js';
import type { Reply } from './context.js';
import type { PooledBuffer } from '../storage/buffer-pool.js';
import { text } from './xml.js';
import { storageFailureOf } from '../storage/disk-space.js';
import { redactText, redactUrl } from '../util/redact.js';

/** A reply's Vary (Accept-Encoding, for variants) joins the one CORS set on the response (Origin), never replaces it. */
function joinVary(res: ServerResponse, reply: Reply): void {
  const own = reply.headers?.Vary;
  if (own !== undefined) reply.headers!.Vary = varyWith(res, own);
}

/** The response's Vary so far joined with `own`. */
export function varyWith(res: ServerResponse, own: string | number): string {
  const earlier = res.getHeader('Vary');
  if (earlier === undefined) return String(own);
  const names = [...String(earlier).split(','), ...String(own).split(',')].map((n) => n.trim()).filter((n) => n !== '');
  return [...new Set(names)].join(', ');
}

export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  joinVary(res, reply);
  const { body } = reply;
  // The hot path (a body in memory): one writeHead, no per-header calls.
  if (Buffer.isBuffer(body)) {
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(reply.headers ?? {})) if (value !== undefined) headers[name] = value;
    if (headers['Content-Length'] === undefined) headers['Content-Length'] = body.length;
    res.writeHead(reply.status, headers);
    if (reply.onDone) whenFinished(res, reply.onDone);
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    if (value !== undefined) res.setHeader(name, value);
  }
  if (reply.onDone && !whenFinished(res, reply.onDone)) {
    if (reply.body instanceof Readable) reply.body.destroy();
    return;
  }
  if (reply.chunks) {
    const iterator = reply.chunks[Symbol.asyncIterator]();
    if (req.method === 'HEAD') {
      void iterator.return?.();
      res.end();
      return;
    }
    void sendChunks(res, iterator);
    return;
  }
  if (body instanceof Readable) {
    if (req.method === 'HEAD') {
      body.destroy();
      res.end();
      return;
    }
    body.once('error', (err) => {
      // Headers are gone already: the only honest signal left is a cut connection.
      console.error(`offload: read failed mid-response: ${(err as Error).message}`);
      res.destroy(err as Error);
    });
    res.once('close', () => body.destroy());
    body.pipe(res);
    return;
  }
  if (body === undefined) {
    res.end();
    return;
  }
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Writes pooled chunks with backpressure, reading the next one while the last is being sent, and
 * recycles each once the socket has taken it. A client that leaves stops the reading.
 */
async function sendChunks(res: ServerResponse, chunks: AsyncIterator<PooledBuffer>): Promise<void> {
  let gone = false;
  const onClose = () => {
    gone = true;
  };
  res.once('close', onClose);
  try {
    let next = chunks.next();
    for (;;) {
      const step = await next;
      if (step.done) break;
      const chunk = step.value;
      if (gone) {
        chunk.recycle();
        break;
      }
      next = chunks.next();
      const flushed = res.write(chunk.bytes, () => chunk.recycle());
      if (!flushed && !gone) await drainOrClose(res);
    }
    if (gone) {
      // Stops the reader (its finally releases the descriptors).
      await chunks.return?.();
      return;
    }
    res.end();
  } catch (err) {
    // Headers are gone already: the only honest signal left is a cut connection.
    console.error(`offload: read failed mid-response: ${(err as Error).message}`);
    res.destroy(err as Error);
    await chunks.return?.().catch(() => undefined);
  } finally {
    res.off('close', onClose);
  }
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/**
 * Runs `fn` once the response is finished ('finish': every byte is with the kernel) or the
 * connection closed first. Returns false, having run it, when the client is gone already
 * ('close' fired while the reply was prepared).
 */
function whenFinished(res: ServerResponse, fn: () => void): boolean {
  const done = once(fn);
  if (res.destroyed || res.writableFinished) {
    done();
    return false;
  }
  res.once('close', done);
  res.once('finish', done);
  return true;
}

/** S3's error document; HEAD responses carry no body, as S3 does. */
export function writeError(req: IncomingMessage, res: ServerResponse, err: unknown, resource: string, requestId: string): void {
  const s3err = toS3Error(err);
  logFailure(s3err, err, req, requestId);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorDocument(s3err, resource, requestId);
  res.statusCode = s3err.status;
  for (const [name, value] of Object.entries(s3err.headers)) res.setHeader(name, name === 'Vary' ? varyWith(res, value) : value);
  if (s3err.status === 304) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  // A request whose body we will not read must not poison the keep-alive connection.
  if (!req.complete) res.setHeader('Connection', 'close');
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * One line per unexpected error, never a stack trace: any key holder can cause these on
 * purpose, and a trace per request would flood the log.
 */
function logInternalError(err: unknown, req: IncomingMessage, requestId: string): void {
  const what = err instanceof Error ? `${err.name}${'code' in err && typeof err.code === 'string' ? ` ${err.code}` : ''}: ${err.message}` : String(err);
  const line = `offload: internal error ${requestId} ${req.method ?? ''} ${redactUrl(req.url ?? '').slice(0, 200)}: ${redactText(what)}`;
  // eslint-disable-next-line no-control-regex -- one line: no newline or control character from the input may split it
  console.error(line.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 500));
}

export function errorDocument(err: S3Error, resource: string, requestId: string): string {
  const details = Object.entries(err.details).map(([name, value]) => text(name, value));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${text('Code', err.code)}${text('Message', err.message)}${details.join('')}${text('Resource', resource)}${text('RequestId', requestId)}</Error>`;
}

export function toS3Error(err: unknown): S3Error {
  if (isS3Error(err)) return err;
  // A Store failure that escaped a handler's storeCall still answers as the S3 error it names.
  const fromStore = s3ErrorFromStore(err);
  if (isS3Error(fromStore)) return fromStore;
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') return new S3Error('IncompleteBody');
    const failure = storageFailureOf(err);
    if (failure === 'full') return new S3Error('XOffloadStorageFull');
    if (failure === 'io') return new S3Error('XOffloadStorageIOError');
  }
  return new S3Error('InternalError');
}

let lastIoErrorLog = -Infinity;

/**
 * Internal errors in one redacted line (an error may quote a URL or a header). A full disk is
 * logged by the disk guard when it fills, not per request; a failing disk in one line a minute.
 */
function logFailure(s3err: S3Error, err: unknown, req: IncomingMessage, requestId: string): void {
  if (s3err.code === 'InternalError') {
    logInternalError(err, req, requestId);
  } else if (s3err.code === 'XOffloadStorageIOError' && Date.now() - lastIoErrorLog >= 60_000) {
    lastIoErrorLog = Date.now();
    console.error(`offload: data folder I/O error (further ones this minute are not logged): ${redactText((err as Error).message)}`);
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

