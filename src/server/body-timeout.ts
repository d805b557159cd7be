/**
 * `--body-timeout` and `--body-min-rate`: a request body must keep arriving. Node's idle timer
 * alone lets a client hold an upload open for ever by sending one byte just before it fires, so,
 * as nginx's client_body_timeout and Apache's mod_reqtimeout do, a body is cut when no byte came
 * for `timeoutMs`, or when, past a grace of `timeoutMs`, it has come slower on average than
 * `minBytesPerSec`. The answer is S3's RequestTimeout, then the connection closes.
 *
 * Only the client's time counts: while the server itself is not reading (its buffer for the
 * request is full because the disk is behind, or it has not asked for the body yet), the clocks
 * stop. One timer checks every watched body, so an upload costs a Set entry, not a timer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { answerAndClose } from './close-answer.js';

export interface BodyTimeoutOptions {
  /** Longest wait for the next body bytes, and the grace before the average rate is checked; 0 turns both off. */
  timeoutMs: number;
  /** Slowest average a body may arrive at once past the grace, bytes per second; 0 turns it off. */
  minBytesPerSec: number;
}

interface Watched {
  req: IncomingMessage;
  res: ServerResponse;
  startBytes: number;
  lastBytes: number;
  /** Client time since the last bytes arrived, and in all, in ms. */
  idleMs: number;
  activeMs: number;
}

export class BodyTimeouts {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private readonly tickMs: number;

  constructor(private readonly opts: BodyTimeoutOptions) {
    this.tickMs = Math.max(50, Math.min(1000, Math.floor(opts.timeoutMs / 4)));
  }

  get enabled(): boolean {
    return this.opts.timeoutMs > 0;
  }

  /** Watches the request's body from now until it has all arrived or the request is gone. */
  watch(req: IncomingMessage, res: ServerResponse): void {
    if (!this.enabled || req.complete) return;
    const bytes = bodyBytesOf(req);
    const watched: Watched = { req, res, startBytes: bytes, lastBytes: bytes, idleMs: 0, activeMs: 0 };
    this.watched.add(watched);
    // Let go of a finished request at once rather than at the next tick: under many small
    // uploads, holding each request and response a second longer would age them into the old heap.
    res.once('close', () => {
      if (req.complete) this.watched.delete(watched);
    });
    if (this.timer === undefined) {
      this.lastTick = performance.now();
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private tick(): void {
    const now = performance.now();
    const elapsed = now - this.lastTick;
    this.lastTick = now;
    for (const w of this.watched) {
      const { req } = w;
      if (req.complete || req.destroyed || req.socket === null || req.socket.destroyed) {
        this.watched.delete(w);
        continue;
      }
      const bytes = bodyBytesOf(req);
      if (req.readableLength >= req.readableHighWaterMark) {
        // The server is the slow side (a full buffer stops the socket): not the client's time.
        w.lastBytes = bytes;
        w.idleMs = 0;
        continue;
      }
      w.activeMs += elapsed;
      if (bytes > w.lastBytes) {
        w.lastBytes = bytes;
        w.idleMs = 0;
      } else {
        w.idleMs += elapsed;
      }
      const tooIdle = w.idleMs >= this.opts.timeoutMs;
      const rate = ((bytes - w.startBytes) * 1000) / w.activeMs;
      const tooSlow = this.opts.minBytesPerSec > 0 && w.activeMs >= this.opts.timeoutMs && rate < this.opts.minBytesPerSec;
      if (tooIdle || tooSlow) {
        this.watched.delete(w);
        timeOut(w);
      }
    }
    if (this.watched.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Bytes that arrived for this request: an HTTP/2 stream counts its own (tls/h2-compat.ts), as its
 * connection's socket carries every other stream too; an HTTP/1 connection carries one request at a time.
 */
function bodyBytesOf(req: IncomingMessage): number {
  return (req as IncomingMessage & { bodyBytesRead?: number }).bodyBytesRead ?? req.socket.bytesRead;
}

/** Answers RequestTimeout (when nothing was answered yet) and closes the connection. */
function timeOut({ req, res }: Watched): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  // The handler still waits on the body: closing the socket ends its read (IncompleteBody),
  // which aborts the upload; its own error answer then finds this one already sent.
  answerAndClose(req, res, new S3Error('RequestTimeout'));
}
