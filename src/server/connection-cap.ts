/**
 * `--max-connections`: a cap on open client connections per server process, shared by the API and
 * website listeners. A connection beyond the cap is not dropped silently (what running out of
 * descriptors does) but answered: 503 SlowDown, the code S3 uses to say "back off and retry", then
 * closed. A health check (`/_offload/health`) on an over-cap connection is still answered, so a
 * load balancer does not take a busy but healthy server out of rotation.
 *
 * An over-cap connection gets a moment to send its request (a health check sends at once); one
 * that says nothing is answered 503 on the raw socket. Only a few over-cap connections wait at a
 * time: past those, new ones are answered and closed at once, whatever they would have asked.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { S3Error } from '../errors/s3-error.js';
import { answerAndClose, answerRawAndClose, pathOf } from './close-answer.js';

/** Over-cap connections allowed to wait for their first request (counted in fd-budget.ts's reserve). */
const WAITING_SLOTS = 32;
/** How long an over-cap connection may take to send its request before it is answered anyway. */
const FIRST_REQUEST_MS = 1000;

/**
 * On a TLS listener the connection counted is the TLS socket (after the handshake: before it no
 * answer can be read, and tls's handshake timeout bounds that wait). An HTTP/2 request's
 * `req.socket` is a stand-in for the session's socket: this mark, read through it, names the real one.
 */
const CONNECTION = Symbol('offload.connection');

const HEALTH_PATH = '/_offload/health';
const SLOW_DOWN_MESSAGE = 'Too many open connections; please retry shortly.';

export class ConnectionCap {
  private open = 0;
  private waiting = 0;
  private readonly overCap = new WeakSet<Socket>();
  private readonly requested = new WeakSet<Socket>();
  private readonly answered = new WeakSet<Socket>();

  constructor(readonly max: number) {}

  get openConnections(): number {
    return this.open;
  }

  /** Counts the server's connections against the cap. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  /** Counts a TLS listener's connections (HTTP/1.1 and HTTP/2 alike) against the same cap. */
  attachTls(server: TlsServer): void {
    server.on('secureConnection', (socket: TLSSocket) => {
      (socket as TLSSocket & { [CONNECTION]?: Socket })[CONNECTION] = socket;
      this.onConnection(socket);
    });
  }

  /** Wraps a request listener: over-cap connections get health answers and 503 SlowDown only. */
  guard(handler: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const socket = (req.socket as Socket & { [CONNECTION]?: Socket })[CONNECTION] ?? req.socket;
      if (!this.overCap.has(socket)) {
        handler(req, res);
        return;
      }
      this.requested.add(socket);
      if (this.answered.has(socket)) {
        // Already told 503 on the raw socket: nothing more is written to it.
        req.resume();
        return;
      }
      if (isHealthCheck(req)) {
        // One answer per over-cap connection, then it closes and frees its slot.
        res.shouldKeepAlive = false;
        handler(req, res);
        return;
      }
      answerAndClose(req, res, new S3Error('SlowDown', SLOW_DOWN_MESSAGE));
      // An HTTP/2 session carries many streams: GOAWAY ends it once this answer is out.
      (req as IncomingMessage & { stream?: { session?: { close(): void } } }).stream?.session?.close();
    };
  }

  private onConnection(socket: Socket): void {
    this.open++;
    socket.once('close', () => this.open--);
    if (this.open <= this.max) return;
    this.overCap.add(socket);
    if (this.waiting >= WAITING_SLOTS) {
      this.answerRaw(socket);
      return;
    }
    this.waiting++;
    const timer = setTimeout(() => {
      if (!this.requested.has(socket)) this.answerRaw(socket);
    }, FIRST_REQUEST_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.waiting--;
    });
  }

  private answerRaw(socket: Socket): void {
    this.answered.add(socket);
    // An HTTP/2 client would not read an HTTP/1 answer: it is told by the connection closing.
    if ((socket as Partial<TLSSocket>).alpnProtocol === 'h2') {
      socket.destroy();
      return;
    }
    answerRawAndClose(socket, new S3Error('SlowDown', SLOW_DOWN_MESSAGE));
  }
}

function isHealthCheck(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && pathOf(req.url) === HEALTH_PATH;
}
