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
import { openBlobStorage } from '../storage/blob-backends/open.js';
import { claimDataFolder } from './data-lock.js';
import { UsageRecorder } from '../serving/usage.js';
import { AddressGuard } from '../origin/address-guard.js';
import { OriginService } from '../origin/service.js';
import { openKeyStore, type KeyStore } from '../storage/keys.js';
import { openSharedMetadata, type SharedServices } from './shared-meta.js';
import type { Credential } from '../auth/types.js';
import type { Store } from '../storage/types.js';
import { ConnectionCap } from './connection-cap.js';
import { BodyTimeouts } from './body-timeout.js';
import { defaultMaxConnections } from './fd-budget.js';
import { DEFAULT_BODY_MIN_RATE, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_HEADER_TIMEOUT_MS } from './limit-options.js';
import type { ServeOptions } from './serve-options.js';
import { CONSOLE_PREFIX, startConsole } from '../console/index.js';
import { listen, plainListener, type ConnectionGuards } from './listeners.js';
import { prepareTls, type TlsRuntime } from './tls/index.js';
import { loadMasterKey } from '../storage/encryption/keys.js';
import { RequestLimiter } from '../s3/limits/limiter.js';
import { SqliteLimitsStore } from '../serving/limits-sqlite.js';

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
  /** The web console's page (its own port, else under the API port); undefined with --no-console. */
  consoleUrl?: string;
  /** The HTTPS (HTTP/2 and HTTP/1.1) address, when TLS is on. */
  tlsUrl?: string;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), closes the store. */
  stop(graceMs?: number): Promise<void>;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before the data folder is claimed: a bad key file stops the start, with its reason.
  const masterKey = opts.masterKeyFile === undefined ? undefined : loadMasterKey(opts.masterKeyFile);
  const previousMasterKey = opts.previousMasterKeyFile === undefined ? undefined : loadMasterKey(opts.previousMasterKeyFile);
  // The embedded engine is rotated offline (`offload keys rotate-master --data`): it holds one key.
  if (previousMasterKey !== undefined && opts.metaUrl === undefined) throw new Error('--previous-master-key-file is for nodes on --meta postgres://... (a data folder is rotated with the server stopped)');
  const root = loadRootCredentials(dataDir, opts.env);
  const worker = opts.skipRecovery === true;
  // With shared metadata the data folder holds only blobs, which several nodes may share.
  const release = worker || opts.metaUrl !== undefined ? undefined : claimDataFolder(dataDir);
  let store: Store;
  let keys: KeyStore;
  // With --meta: usage counters and console sessions in PostgreSQL too, so every node sees all of them.
  let shared: SharedServices | undefined;
  try {
    const blobStorage = opts.blobs === undefined ? undefined : openBlobStorage(opts.blobs, opts.env);
    if (opts.metaUrl !== undefined) ({ store, keys, shared } = await openSharedMetadata(opts.metaUrl, dataDir, { ...opts, blobs: blobStorage, masterKey, previousMasterKey }));
    else {
      store = await openStore(dataDir, { skipRecovery: worker, soleWriter: !worker, cache: { maxTotalBytes: opts.hotCacheBytes }, minFreeSpace: opts.minFreeSpace, blobs: blobStorage, masterKey });
      keys = openKeyStore(dataDir);
    }
  } catch (err) {
    release?.();
    throw err;
  }
  if (opts.cacheRulesFile !== undefined) loadCacheRulesFile(readFileSync(opts.cacheRulesFile, 'utf8'), opts.cacheRulesFile);
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
  // The guard never lets an origin point at this server's own listeners (known once listening).
  const ownListeners: { host: string; port: number }[] = [];
  const originGuard = new AddressGuard({ serverAllow: opts.allowPrivateOrigins, ownListeners: () => ownListeners });
  const origin = new OriginService(store, originGuard, dataDir);
  config.origin = origin;
  let accepting = true;
  const lookup = (id: string) => (id === root.accessKeyId ? rootCredential : keys.lookupKey(id));
  const cache = store.hotCache;
  const usage = new UsageRecorder(store, dataDir, { cacheCounters: cache && (() => ({ hits: cache.hits, misses: cache.misses })), counters: () => origin.counters.snapshot(), sink: shared?.usageSink });
  // Workers of one data folder, or --meta nodes, share their rate budgets (s3/limits/shared-budget.ts);
  // a lone process limits on its own. Transfer budgets are persisted either way.
  const limiter = new RequestLimiter(store, opts.rateLimits, { limitsStore: shared?.limits ?? new SqliteLimitsStore(dataDir), shareRates: worker || opts.metaUrl !== undefined });
  await limiter.start();
  const admin = createAdminHandler({
    ready: () => accepting,
    usage,
    usageReaders: shared?.usageReaders,
    region: config.region,
    lookup,
    rootAccessKeyId: root.accessKeyId,
    bucketExists: (name) => store.getBucket(name) !== undefined,
    metricsPublic: (opts.env ?? process.env).OFFLOAD_METRICS_PUBLIC === '1',
    store,
    origin: { service: origin, guard: originGuard },
    metricsToken: opts.metricsToken,
    limiter,
  });
  const hotBlob = cache && ((blobId: string) => cache.getIfCached(blobId));
  const s3 = createS3Handler({ store, config, lookup, usage, hotBlob, limiter });
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
  const website = createWebsiteHandler({ store, config, websiteDomain, nextRequestId, usage, limiter, httpsRedirectPort: opts.tls?.httpsRedirect ? tlsPort : undefined });
  const challenges = tls?.challenges;
  // Known once the listeners are bound; the console reads them per request.
  const urls: { api: string; website?: string } = { api: '' };
  const consoleApp = opts.noConsole ? undefined : startConsole({
    store, config, lookup, keys, rootAccessKeyId: root.accessKeyId, usage, env: opts.env ?? process.env,
    stats: shared?.consoleStats, sessionStore: shared?.sessions,
    endpoint: () => urls.api,
    websiteEndpoint: () => urls.website,
  });
  const entrances = { s3, website, admin, console: consoleApp?.handler, acme: challenges && ((req, res, target) => challenges.answer(req, res, target)), toHttps: tls && httpsRedirect(tlsPort) } satisfies EntranceHandlers;
  const plainDoor = { acmeChallenges: challenges !== undefined, tlsOnly: opts.tls?.only === true };
  tlsHandler = createFrontDoor(entrances, { websiteHostSuffix, console: consoleApp !== undefined });
  const servers: Server[] = [];
  // --tls-only without ACME: no plain listener at all.
  const plain = opts.tls?.only === true && challenges === undefined ? undefined : plainListener(createFrontDoor(entrances, { websiteHostSuffix, console: consoleApp !== undefined, ...plainDoor }), guards);
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
  const tlsUrl = tls && `https://${hostForUrl}:${tls.port}`;
  urls.api = port === undefined ? tlsUrl! : `http://${hostForUrl}:${port}`;
  urls.website = websitePort === undefined ? undefined : `http://${hostForUrl}:${websitePort}`;
  let consoleUrl: string | undefined;
  if (consoleApp) {
    const consoleServer = plainListener(createFrontDoor(entrances, { consoleOnly: true }), guards);
    const consolePort = await listenConsole(consoleServer, opts, config.port);
    if (consolePort !== undefined) servers.push(consoleServer);
    consoleUrl = consolePort !== undefined ? `http://${hostForUrl}:${consolePort}${CONSOLE_PREFIX}/` : `${urls.api}${CONSOLE_PREFIX}/`;
  }
  const server = servers[0]!;
  // Every bound listener (plain, website, TLS, console): an origin may never point back at them.
  for (const s of servers) {
    const address = s.address();
    if (typeof address === 'object' && address) ownListeners.push({ host: opts.host, port: address.port });
  }

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
      await usage.close();
      await limiter.close();
      consoleApp?.close();
      await store.close();
      await keys.close();
      release?.();
    })();
    return stopping;
  };
  return { server, store, config, root, url: urls.api, websiteUrl: urls.website, consoleUrl, tlsUrl, stop };
}

/**
 * The console's own port: --console-port, else the API port + 1 (a free one with --port 0).
 * When that default is taken, the console stays under /_offload/console/ on the API port.
 */
async function listenConsole(server: Server, opts: ServeOptions, apiPort: number): Promise<number | undefined> {
  const wanted = opts.consolePort ?? (opts.port === 0 ? 0 : apiPort + 1);
  try {
    return await listen(server, wanted, opts.host);
  } catch (err) {
    if (opts.consolePort !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.warn(`offload: port ${wanted} is taken; the console is served on the API port only (give --console-port to choose another)`);
    return undefined;
  }
}

