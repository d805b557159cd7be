/**
 * The listeners `offload serve` opens: plain HTTP/1.1 (the API port, the website port) and, in
 * tls/listener.ts, TLS with HTTP/2. Both put the same guards (connection cap, header and body
 * timeouts) in front of the same front door.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { onBodyWanted } from '../auth/index.js';
import { S3Error } from '../errors/s3-error.js';
import { answerRawAndClose } from './close-answer.js';
import type { ConnectionCap } from './connection-cap.js';
import type { BodyTimeouts } from './body-timeout.js';

export interface ConnectionGuards {
  cap: ConnectionCap;
  bodies: BodyTimeouts;
  headerTimeoutMs: number;
}

/** Node checks the headers deadline only this often (its default, 30 s, would let a slow-headers client run far past it). */
export function connectionsCheckingInterval(guards: ConnectionGuards): number {
  return Math.min(5_000, Math.max(100, Math.floor(guards.headerTimeoutMs / 4)));
}

export function plainListener(handler: RequestListener, guards: ConnectionGuards): Server {
  const server = createServer(
    { keepAliveTimeout: 30_000, headersTimeout: guards.headerTimeoutMs, requestTimeout: 0, connectionsCheckingInterval: connectionsCheckingInterval(guards) },
    guardedRequests(handler, guards),
  );
  guards.cap.attach(server);
  // Big uploads on slow links must not hit a whole-request deadline (the body timeouts catch a
  // stalled or trickling one); an idle socket still times out.
  server.setTimeout(300_000);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket));
  server.on('checkContinue', continueRequests(handler, guards));
  return server;
}

/** Requests past the connection cap's check, their bodies watched by the body timeouts. */
export function guardedRequests(handler: RequestListener, guards: ConnectionGuards): RequestListener {
  return guards.cap.guard((req, res) => {
    if (hasBody(req) && req.headers.expect === undefined) guards.bodies.watch(req, res);
    handler(req, res);
  });
}

/**
 * Expect: 100-continue is answered only once a handler reads the body (see auth/body.ts), so a
 * refused upload is refused before the client sends it. The body's clocks start then too.
 */
export function continueRequests(handler: RequestListener, guards: ConnectionGuards): RequestListener {
  return guards.cap.guard((req: IncomingMessage, res: ServerResponse) => {
    onBodyWanted(req, () => {
      res.writeContinue();
      guards.bodies.watch(req, res);
    });
    handler(req, res);
  });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) return true;
  // An HTTP/2 body needs no length header: its stream says whether DATA frames follow.
  return (req as IncomingMessage & { stream?: { endAfterHeaders: boolean } }).stream?.endAfterHeaders === false && length === undefined;
}

export function listen(server: Server | NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolveListen(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * Requests Node's parser refuses never reach the handler: answer them as S3 would, with an
 * XML error, instead of Node's bare 400/431.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const s3err =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new S3Error('RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.', { MaxSizeAllowed: '16384' })
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new S3Error('RequestTimeout')
        : new S3Error('InvalidRequest', 'The request could not be parsed as HTTP.');
  answerRawAndClose(socket, s3err);
}
