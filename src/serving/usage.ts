/**
 * Usage recording for one worker: the request handlers `begin()` a tap per request and fill in
 * what they learn (operation, bucket, key, principal); when the response ends the tap adds one
 * sample to the in-memory batch, which is flushed to the shared database every ~2 s, before
 * stats/metrics are read, and at shutdown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Principal } from '../auth/types.js';
import type { Store } from '../storage/types.js';
import type { Db } from '../storage/schema.js';
import { AccessLogBuffer } from './access-log.js';
import { batchWriter, openUsageDatabase } from './usage-db.js';
import { PendingUsage, type UsageBatch } from './usage-pending.js';
import type { UsageSink } from './usage-backend.js';
import type { RequestTap, UsageTap } from '../s3/usage-tap.js';

export type { RequestTap };

export interface UsageOptions {
  /** Milliseconds between flushes (default 2000). */
  flushMs?: number;
  /** This process's hot-cache counters (monotonic); their growth is flushed with each batch. */
  cacheCounters?: () => { hits: number; misses: number };
  /** More monotonic named counters of this process (origin buckets'), flushed by their growth. */
  counters?: () => Record<string, number>;
  /** Another place for the counts (PostgreSQL, shared by nodes); default: the data folder's SQLite. */
  sink?: UsageSink;
}

const ANONYMOUS: Principal = { kind: 'anonymous' };

export class UsageRecorder implements UsageTap {
  /** The SQLite usage tables; undefined when another sink keeps the counts. */
  readonly db: Db | undefined;
  private readonly pending = new PendingUsage();
  private readonly accessLog: AccessLogBuffer;
  private readonly sink: UsageSink;
  /** The asynchronous write under way (PostgreSQL); one at a time. */
  private writing: Promise<void> | undefined;
  /** The flush that runs once `writing` settles. */
  private queued: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private failures = 0;
  private accessLogFailures = 0;
  private readonly cacheCounters: (() => { hits: number; misses: number }) | undefined;
  private cacheSeen = { hits: 0, misses: 0 };
  private readonly counters: (() => Record<string, number>) | undefined;
  private countersSeen: Record<string, number> = {};

  constructor(store: Store, dataDir: string, options: UsageOptions = {}) {
    this.db = options.sink ? undefined : openUsageDatabase(dataDir);
    this.sink = options.sink ?? { write: batchWriter(this.db!) };
    this.accessLog = new AccessLogBuffer(store, dataDir);
    this.cacheCounters = options.cacheCounters;
    this.counters = options.counters;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 2000);
    this.timer.unref();
  }

  /** Starts watching one request; the returned tap is filled in by the handler. */
  begin(req: IncomingMessage, res: ServerResponse): RequestTap {
    const tap: RequestTap = { op: 'Unknown', bucket: undefined, key: undefined, principal: ANONYMOUS, website: false };
    const started = performance.now();
    const socket = req.socket;
    const writtenBefore = socket.bytesWritten;
    res.once('close', () => this.end(req, res, tap, started, socket.bytesWritten - writtenBefore));
    return tap;
  }

  private end(req: IncomingMessage, res: ServerResponse, tap: RequestTap, started: number, socketBytes: number): void {
    if (this.closed) return;
    const ms = performance.now() - started;
    const now = Date.now();
    const status = res.headersSent ? res.statusCode : 499;
    const method = req.method ?? 'GET';
    const bytesOut = bytesSent(method, status, res, socketBytes);
    const h = req.headers;
    const referer = h.referer;
    this.pending.record({
      op: tap.op,
      bucket: tap.bucket,
      key: tap.key,
      status,
      bytesIn: Number(h['x-amz-decoded-content-length'] ?? h['content-length'] ?? 0) || 0,
      bytesOut,
      signed: tap.principal.kind === 'user',
      referrerHost: referrerHost(referer),
      seconds: ms / 1000,
      now,
    });
    if (tap.bucket !== undefined) {
      const size = res.getHeader('content-length');
      this.accessLog.maybeAdd({
        bucket: tap.bucket,
        key: tap.key,
        op: tap.op,
        method,
        url: req.url ?? '/',
        httpVersion: req.httpVersion,
        status,
        remoteIp: socketAddress(req),
        principal: tap.principal,
        requestId: String(res.getHeader('x-amz-request-id') ?? '-'),
        bytesSent: bytesOut,
        objectSize: tap.key !== undefined && size !== undefined && status < 300 ? Number(size) : undefined,
        totalMs: ms,
        referer,
        userAgent: h['user-agent'],
        host: h.host,
        time: now,
        website: tap.website,
      });
    }
  }

  /**
   * Writes this worker's batch (one transaction) and appends buffered access-log lines. Resolves
   * once every batch taken so far is written (or put back after a failure); with SQLite the
   * write is done before this returns.
   */
  flush(): Promise<void> {
    if (this.closed) return this.writing ?? Promise.resolve();
    // A write still under way (a slow or unreachable PostgreSQL): one more flush after it, at
    // most, so that an outage keeps the counts pending instead of piling up writes.
    if (this.writing) {
      return (this.queued ??= this.writing.then(() => {
        this.queued = undefined;
        return this.flush();
      }));
    }
    if (this.cacheCounters) {
      const now = this.cacheCounters();
      this.pending.add('cache_hits', now.hits - this.cacheSeen.hits);
      this.pending.add('cache_misses', now.misses - this.cacheSeen.misses);
      this.cacheSeen = { hits: now.hits, misses: now.misses };
    }
    if (this.counters) {
      const now = this.counters();
      for (const [name, value] of Object.entries(now)) this.pending.add(name, value - (this.countersSeen[name] ?? 0));
      this.countersSeen = now;
    }
    if (this.pending.size > 0) {
      const batch = this.pending.take();
      const pending = this.write(batch);
      if (pending) this.chain(pending);
    }
    try {
      this.accessLog.flush();
      this.accessLogFailures = 0;
    } catch (err) {
      // A full disk fails every flush: one line per run of failures, not one every two seconds.
      if (this.accessLogFailures++ === 0) console.error(`offload: access log write failed (lines are dropped until it works again): ${(err as Error).message}`);
    }
    return this.writing ?? Promise.resolve();
  }

  private chain(write: Promise<void>): void {
    const settled = write.finally(() => {
      if (this.writing === settled) this.writing = undefined;
    });
    this.writing = settled;
  }

  /** Writes a batch; undefined when done synchronously, else a Promise that never rejects. */
  private write(batch: UsageBatch): Promise<void> | undefined {
    try {
      const done = this.sink.write(batch);
      if (!(done instanceof Promise)) {
        this.failures = 0;
        return undefined;
      }
      return done.then(
        () => void (this.failures = 0),
        (err: unknown) => this.failed(batch, err),
      );
    } catch (err) {
      this.failed(batch, err);
      return undefined;
    }
  }

  /** Busy or failing database: keep the counts for the next attempt. */
  private failed(batch: UsageBatch, err: unknown): void {
    this.pending.restore(batch);
    if (this.failures++ === 0) console.error(`offload: usage stats flush failed: ${(err as Error).message}`);
  }

  /** Final flush; later requests are not recorded. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    this.db?.close();
  }
}

function socketAddress(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress;
}

/**
 * Body bytes sent: none for HEAD, 204 and 304; the Content-Length of a completed response;
 * otherwise (chunked, empty or aborted) what the socket wrote for this request after the headers
 * (chunked framing included).
 */
function bytesSent(method: string, status: number, res: ServerResponse, socketBytes: number): number {
  if (method === 'HEAD' || status === 204 || status === 304) return 0;
  if (res.writableFinished) {
    const length = res.getHeader('content-length');
    if (length !== undefined) return Number(length) || 0;
  }
  // Node keeps the serialized header block it wrote; what the socket wrote beyond it is the body.
  const head = (res as unknown as { _header?: unknown })._header;
  return Math.max(0, socketBytes - (typeof head === 'string' ? head.length : 0));
}

/** `https://www.example.com:8080/page?q` -> `www.example.com:8080`, without allocating a URL. */
export function referrerHost(referer: string | undefined): string {
  if (referer === undefined) return '';
  const scheme = referer.indexOf('://');
  if (scheme < 0) return '';
  const start = scheme + 3;
  let end = referer.length;
  for (let i = start; i < referer.length; i++) {
    const c = referer.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) {
      end = i;
      break;
    }
  }
  const host = referer.slice(start, end);
  const at = host.lastIndexOf('@');
  return (at < 0 ? host : host.slice(at + 1)).toLowerCase().slice(0, 255);
}
