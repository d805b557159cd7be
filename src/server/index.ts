/** `offload serve`: the HTTP server around the S3 handler, its lifecycle and its clean shutdown. */
import type { Server } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadCacheRulesFile } from '../media/cache-rules.js';
import { resolve } from 'node:path';
import { createS3Handler, nextRequestId } from '../s3/handler.js';
import { createWebsiteHandler, httpsRedirect } from '../serving/website.js';
import type { ServerConfig } from '../s3/context.js';
import { createAdminHandler } from './admin.js';
import { createFrontDoor, type EntranceHandlers } from './front-door.js';
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
import { listen, plainListener, type ConnectionGuards } from './listeners.js';
import { prepareTls, type TlsRuntime } from './tls/index.js';

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
  /** The HTTPS (HTTP/2 and HTTP/1.1) address, when TLS is on. */
  tlsUrl?: string;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), closes the store. */
  stop(graceMs?: number): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const root = loadRootCredentials(dataDir, opts.env);
  const worker = opts.skipRecovery === true;
  const release = worker ? undefined : claimDataFolder(dataDir);
  let store: Store;
  try {
    store = await openStore(dataDir, { skipRecovery: worker, soleWriter: !worker, cache: { maxTotalBytes: opts.hotCacheBytes }, minFreeSpace: opts.minFreeSpace });
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
  };
  let accepting = true;
  const lookup = (id: string) => (id === root.accessKeyId ? rootCredential : keys.lookupKey(id));
  const cache = store.hotCache;
  const usage = new UsageRecorder(store, dataDir, { cacheCounters: cache && (() => ({ hits: cache.hits, misses: cache.misses })) });
  const admin = createAdminHandler({
    ready: () => accepting,
    usage,
    region: config.region,
    lookup,
    rootAccessKeyId: root.accessKeyId,
    bucketExists: (name) => store.getBucket(name) !== undefined,
    metricsPublic: (opts.env ?? process.env).OFFLOAD_METRICS_PUBLIC === '1',
    store,
  });
  const hotBlob = cache && ((blobId: string) => cache.getIfCached(blobId));
  const s3 = createS3Handler({ store, config, lookup, usage, hotBlob });
  const websiteDomain = (opts.websiteDomain ?? opts.domain).toLowerCase();
  const guards: ConnectionGuards = {
    cap: new ConnectionCap(opts.maxConnections ?? defaultMaxConnections()),
    bodies: new BodyTimeouts({ timeoutMs: opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS, minBytesPerSec: opts.bodyMinRate ?? DEFAULT_BODY_MIN_RATE }),
    headerTimeoutMs: opts.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS,
  };
  // With a website domain of its own, `bucket.<websiteDomain>` hosts are website requests on the API port too.
  const websiteHostSuffix = websiteDomain !== config.domain ? `.${websiteDomain}` : undefined;
  let tlsHandler: Parameters<typeof prepareTls>[1] = () => undefined;
  let tls: TlsRuntime | undefined;
  try {
    tls = opts.tls && prepareTls(opts.tls, (req, res) => tlsHandler(req, res), {
      dataDir, guards, env: opts.env ?? process.env, log: (line) => console.log(line),
      claims: { websiteDomain, extraDomains: opts.tls.acme?.domains ?? [], isBucket: (name) => store.getBucket(name) !== undefined, bucketNames: () => store.listBuckets().map((b) => b.name) },
    });
  } catch (err) {
    await store.close();
    keys.close();
    release?.();
    throw err;
  }
  const tlsPort = () => tls!.port;
  const website = createWebsiteHandler({ store, config, websiteDomain, nextRequestId, usage, httpsRedirectPort: opts.tls?.httpsRedirect ? tlsPort : undefined });
  const challenges = tls?.challenges;
  const entrances = { s3, website, admin, acme: challenges && ((req, res, target) => challenges.answer(req, res, target)), toHttps: tls && httpsRedirect(tlsPort) } satisfies EntranceHandlers;
  const plainDoor = { acmeChallenges: challenges !== undefined, tlsOnly: opts.tls?.only === true };
  tlsHandler = createFrontDoor(entrances, { websiteHostSuffix });
  const servers: Server[] = [];
  // --tls-only without ACME: no plain listener at all.
  const plain = opts.tls?.only === true && challenges === undefined ? undefined : plainListener(createFrontDoor(entrances, { websiteHostSuffix, ...plainDoor }), guards);
  if (plain) servers.push(plain);
  const websiteServer = opts.websitePort !== undefined && !plainDoor.tlsOnly ? plainListener(createFrontDoor(entrances, { websiteOnly: true, ...plainDoor }), guards) : undefined;
  if (websiteServer) servers.push(websiteServer);
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const port = plain ? await listen(plain, opts.port, opts.host) : undefined;
  const websitePort = websiteServer ? await listen(websiteServer, opts.websitePort!, opts.host) : undefined;
  if (tls) {
    await tls.listen(opts.host);
    servers.push(tls.server as unknown as Server);
  }
  config.port = port ?? tls!.port;
  const server = servers[0]!;

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      accepting = false;
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      tls?.stop();
      for (const s of servers) s.closeIdleConnections?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
      for (const s of servers) s.closeAllConnections?.();
      tls?.destroyConnections();
      guards.bodies.stop();
      usage.close();
      await store.close();
      keys.close();
      release?.();
    })();
    return stopping;
  };
  const websiteUrl = websitePort === undefined ? undefined : `http://${hostForUrl}:${websitePort}`;
  const tlsUrl = tls && `https://${hostForUrl}:${tls.port}`;
  const url = port === undefined ? tlsUrl! : `http://${hostForUrl}:${port}`;
  return { server, store, config, root, url, websiteUrl, tlsUrl, stop };
}

