/** `offload serve`: the HTTP server around the S3 handler, its lifecycle and its clean shutdown. */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { onBodyWanted } from '../auth/index.js';
import type { Socket } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadCacheRulesFile } from '../media/cache-rules.js';
import { resolve } from 'node:path';
import { createS3Handler, nextRequestId } from '../s3/handler.js';
import { createWebsiteHandler } from '../serving/website.js';
import type { ServerConfig } from '../s3/context.js';
import { answerRawAndClose } from './close-answer.js';
import { S3Error } from '../errors/s3-error.js';
import { createAdminHandler } from './admin.js';
import { createFrontDoor } from './front-door.js';
import { loadRootCredentials, type RootCredentials } from './root-credentials.js';
import { openStore } from '../storage/engine.js';
import { claimDataFolder } from './data-lock.js';
import { UsageRecorder } from '../serving/usage.js';
import { openKeyStore } from '../storage/keys.js';
import type { Credential } from '../auth/types.js';
import type { Store } from '../storage/types.js';
import { ConnectionCap } from './connection-cap.js';
import { BodyTimeouts } from './body-timeout.js';
import { defaultMaxConnections } from './fd-budget.js';
import { DEFAULT_BODY_MIN_RATE, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_HEADER_TIMEOUT_MS } from './limit-options.js';
import type { ServeOptions } from './serve-options.js';
import { loadMasterKey } from '../storage/encryption/keys.js';
import { RequestLimiter } from '../s3/limits/limiter.js';

export type { ServeOptions };

export interface RunningServer {
  server: Server;
  store: Store;
  config: ServerConfig;
  root: RootCredentials;
  /** The address actually bound (port 0 picks a free one). */
  url: string;
  /** The website endpoint's address, when `websitePort` was given. */
  websiteUrl?: string;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), closes the store. */
  stop(graceMs?: number): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before the data folder is claimed: a bad key file stops the start, with its reason.
  const masterKey = opts.masterKeyFile === undefined ? undefined : loadMasterKey(opts.masterKeyFile);
  const root = loadRootCredentials(dataDir, opts.env);
  const worker = opts.skipRecovery === true;
  const release = worker ? undefined : claimDataFolder(dataDir);
  let store: Store;
  try {
    store = await openStore(dataDir, { skipRecovery: worker, soleWriter: !worker, cache: { maxTotalBytes: opts.hotCacheBytes }, minFreeSpace: opts.minFreeSpace, masterKey });
  } catch (err) {
    release?.();
    throw err;
  }
  if (opts.cacheRulesFile !== undefined) loadCacheRulesFile(readFileSync(opts.cacheRulesFile, 'utf8'), opts.cacheRulesFile);
  const keys = openKeyStore(dataDir);
  const rootCredential: Credential = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey, owner: root.ownerId, displayName: 'root' };
  const config: ServerConfig = {
    host: opts.host,
    port: opts.port,
    dataDir,
    domain: opts.domain.toLowerCase(),
    region: opts.region,
    rootOwner: { id: root.ownerId, displayName: 'root' },
    ownerName: (id) => keys.nameOfOwner(id),
    compressOnTheFly: opts.compressOnTheFly,
    masterKey: masterKey !== undefined,
  };
  let accepting = true;
  const lookup = (id: string) => (id === root.accessKeyId ? rootCredential : keys.lookupKey(id));
  const cache = store.hotCache;
  const usage = new UsageRecorder(store, dataDir, { cacheCounters: cache && (() => ({ hits: cache.hits, misses: cache.misses })) });
  const limiter = new RequestLimiter(store, opts.rateLimits);
  const admin = createAdminHandler({
    ready: () => accepting,
    usage,
    region: config.region,
    lookup,
    rootAccessKeyId: root.accessKeyId,
    bucketExists: (name) => store.getBucket(name) !== undefined,
    metricsPublic: (opts.env ?? process.env).OFFLOAD_METRICS_PUBLIC === '1',
    store,
    metricsToken: opts.metricsToken,
    limiter,
  });
  const hotBlob = cache && ((blobId: string) => cache.getIfCached(blobId));
  const s3 = createS3Handler({ store, config, lookup, usage, hotBlob, limiter });
  const websiteDomain = (opts.websiteDomain ?? opts.domain).toLowerCase();
  const website = createWebsiteHandler({ store, config, websiteDomain, nextRequestId, usage });
  const entrances = { s3, website, admin };
  // With a website domain of its own, `bucket.<websiteDomain>` hosts are website requests on the API port too.
  const websiteHostSuffix = websiteDomain !== config.domain ? `.${websiteDomain}` : undefined;
  const handler = createFrontDoor(entrances, { websiteHostSuffix });
  const guards: ConnectionGuards = {
    cap: new ConnectionCap(opts.maxConnections ?? defaultMaxConnections()),
    bodies: new BodyTimeouts({ timeoutMs: opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS, minBytesPerSec: opts.bodyMinRate ?? DEFAULT_BODY_MIN_RATE }),
    headerTimeoutMs: opts.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS,
  };
  const servers = [listener(handler, guards)];
  if (opts.websitePort !== undefined) servers.push(listener(createFrontDoor(entrances, { websiteOnly: true }), guards));
  const [server, websiteServer] = servers as [Server, Server | undefined];
  const port = await listen(server, opts.port, opts.host);
  config.port = port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const websitePort = websiteServer ? await listen(websiteServer, opts.websitePort!, opts.host) : undefined;

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      accepting = false;
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const s of servers) s.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
      for (const s of servers) s.closeAllConnections();
      guards.bodies.stop();
      usage.close();
      await store.close();
      keys.close();
      release?.();
    })();
    return stopping;
  };
  const websiteUrl = websitePort === undefined ? undefined : `http://${hostForUrl}:${websitePort}`;
  return { server, store, config, root, url: `http://${hostForUrl}:${port}`, websiteUrl, stop };
}

interface ConnectionGuards {
  cap: ConnectionCap;
  bodies: BodyTimeouts;
  headerTimeoutMs: number;
}

function listener(handler: RequestListener, guards: ConnectionGuards): Server {
  const server = createServer(
    {
      keepAliveTimeout: 30_000,
      headersTimeout: guards.headerTimeoutMs,
      requestTimeout: 0,
      // Node checks the headers deadline only this often (its default, 30 s, would let a
      // slow-headers client run far past it).
      connectionsCheckingInterval: Math.min(5_000, Math.max(100, Math.floor(guards.headerTimeoutMs / 4))),
    },
    guards.cap.guard((req, res) => {
      if (hasBody(req) && req.headers.expect === undefined) guards.bodies.watch(req, res);
      handler(req, res);
    }),
  );
  guards.cap.attach(server);
  // Big uploads on slow links must not hit a whole-request deadline (the body timeouts catch a
  // stalled or trickling one); an idle socket still times out.
  server.setTimeout(300_000);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket));
  // Expect: 100-continue is answered only once a handler reads the body (see auth/body.ts), so a
  // refused upload is refused before the client sends it. The body's clocks start then too.
  server.on('checkContinue', guards.cap.guard((req: IncomingMessage, res: ServerResponse) => {
    onBodyWanted(req, () => {
      res.writeContinue();
      guards.bodies.watch(req, res);
    });
    handler(req, res);
  }));
  return server;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function listen(server: Server, port: number, host: string): Promise<number> {
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
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
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
