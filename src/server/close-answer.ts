/**
 * The answers the connection guards (connection-cap.ts, body-timeout.ts) give before closing a
 * connection, and the answer to a request Node's parser refused: an S3 error document with
 * `Connection: close`, through the response when there is a request, or straight onto the socket
 * when there is none.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { S3Error } from '../errors/s3-error.js';
import { errorDocument } from '../s3/respond.js';
import { nextRequestId } from '../s3/handler.js';
import { splitTarget } from '../util/request-target.js';

/** A socket answered and half-closed, whose client does not close, is cut after this. */
const LINGER_MS = 2000;

export function pathOf(url: string | undefined): string {
  return splitTarget(url).rawPath;
}

/** Answers the request with the error, then closes its connection once the answer is flushed. */
export function answerAndClose(req: IncomingMessage, res: ServerResponse, err: S3Error): void {
  const socket = req.socket;
  const existing = res.getHeader('x-amz-request-id');
  const requestId = typeof existing === 'string' ? existing : nextRequestId();
  const body = errorDocument(err, pathOf(req.url), requestId);
  res.shouldKeepAlive = false;
  res.writeHead(err.status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
    'x-amz-request-id': requestId,
    Server: 'Offload',
  });
  res.end(req.method === 'HEAD' ? undefined : body, () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Writes the error as a whole HTTP response onto a socket that has no request in progress, and closes it. */
export function answerRawAndClose(socket: Socket, err: S3Error): void {
  if (socket.destroyed || !socket.writable) return;
  const requestId = nextRequestId();
  const body = errorDocument(err, '/', requestId);
  socket.end(
    `HTTP/1.1 ${err.status} ${REASONS[err.status] ?? 'Error'}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amz-request-id: ${requestId}\r\nServer: Offload\r\nConnection: close\r\n\r\n${body}`,
  );
  // Half-closed: the client reads the answer and closes; one that does not is cut.
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 503: 'Slow Down' };
