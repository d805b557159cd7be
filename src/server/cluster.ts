/**
 * `offload serve --workers N`: N server processes sharing the listening sockets, so every core
 * serves requests. The primary recovers the data folder once, forks the workers, replaces any
 * that die, and on SIGTERM/SIGINT asks each to finish its in-flight requests and exit.
 * Workers share nothing but the data folder: SQLite (WAL) serialises their writes, and every
 * read consults the database, so no process can serve another's stale state.
 */
import cluster, { type Worker } from 'node:cluster';
import { resolve } from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadCacheRulesFile } from '../media/cache-rules.js';
import { openKeyStore } from '../storage/keys.js';
import { openStore } from '../storage/engine.js';
import { openBlobStorage } from '../storage/blob-backends/open.js';
import { claimDataFolder } from './data-lock.js';
import { loadRootCredentials, type RootCredentials } from './root-credentials.js';
import type { ServeOptions } from './index.js';

type ToWorker = { type: 'stop'; graceMs: number };
type FromWorker = { type: 'listening'; url: string; websiteUrl?: string; consoleUrl?: string; tlsUrl?: string };

export interface ClusterServer {
  root: RootCredentials;
  url: string;
  websiteUrl?: string;
  consoleUrl?: string;
  tlsUrl?: string;
  dataDir: string;
  stop(graceMs?: number): Promise<void>;
}

export async function startCluster(opts: ServeOptions, workers: number): Promise<ClusterServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const root = loadRootCredentials(dataDir, opts.env);
  // Crash recovery runs once, here, before any worker can write.
  // A broken rules file fails here, once, rather than in every worker.
  if (opts.cacheRulesFile !== undefined) loadCacheRulesFile(readFileSync(opts.cacheRulesFile, 'utf8'), opts.cacheRulesFile);
  // With --meta the data folder holds only blobs, which several nodes may share: no claim, no SQLite.
  const release = opts.metaUrl === undefined ? claimDataFolder(dataDir) : () => undefined;
  if (opts.metaUrl === undefined) {
    await (await openStore(dataDir, { blobs: opts.blobs === undefined ? undefined : openBlobStorage(opts.blobs, opts.env) })).close();
    // The key store's schema changes run here once too, not in every worker at the same moment.
    openKeyStore(dataDir).close();
  }
  // Each worker accepts on the shared socket itself: the default round-robin would make the
  // primary touch every connection.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let ready = false;
  const fork = (): Promise<FromWorker> =>
    new Promise((resolveListening, reject) => {
      const worker = cluster.fork({ OFFLOAD_ROOT_ACCESS_KEY: root.accessKeyId, OFFLOAD_ROOT_SECRET_KEY: root.secretAccessKey });
      worker.once('message', (msg: FromWorker) => {
        if (msg.type === 'listening') resolveListening(msg);
      });
      worker.once('exit', (code) => {
        reject(new Error(`a server worker exited with code ${code} before listening`));
        if (!stopping && ready) {
          console.error(`offload: worker ${worker.process.pid} exited (${code}); starting another`);
          void fork().catch((err: unknown) => console.error(`offload: ${(err as Error).message}`));
        }
      });
    });
  let started: FromWorker[];
  try {
    started = await Promise.all(Array.from({ length: workers }, fork));
  } catch (err) {
    // One worker failed to start: stop the others, or they would keep this process alive with no server.
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGKILL');
    release();
    throw err;
  }
  const first = started[0]!;
  ready = true;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    return Promise.all(
      alive.map(
        (w) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => w.kill('SIGKILL'), graceMs + 2000);
            w.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            w.send({ type: 'stop', graceMs } satisfies ToWorker);
          }),
      ),
    ).then(() => release());
  };
  return { root, url: first.url, websiteUrl: first.websiteUrl, consoleUrl: first.consoleUrl, tlsUrl: first.tlsUrl, dataDir, stop };
}

/** The worker side: serve, report the address, stop when the primary says so or disappears. */
export async function runWorker(opts: ServeOptions): Promise<void> {
  const { startServer } = await import('./index.js');
  const running = await startServer({ ...opts, skipRecovery: true });
  // Signals go to the primary, which orchestrates the shutdown of every worker.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  const stop = (graceMs: number) => running.stop(graceMs).then(() => process.exit(0), () => process.exit(1));
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') void stop(msg.graceMs);
  });
  process.on('disconnect', () => void stop(2000));
  process.send!({ type: 'listening', url: running.url, websiteUrl: running.websiteUrl, consoleUrl: running.consoleUrl, tlsUrl: running.tlsUrl } satisfies FromWorker);
}
