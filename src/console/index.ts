/**
 * The web console, as the server starts it: sessions (kept in DATA/console.db), the sign-in
 * limiter, the prices file and the handler for `/_offload/console/`. Lifetimes and sign-in
 * limits can be shortened through the environment, for tests and for strict sites.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CredentialLookup } from '../auth/types.js';
import type { ServerConfig } from '../s3/context.js';
import type { UsageRecorder } from '../serving/usage.js';
import type { KeyStore } from '../storage/keys.js';
import type { Store } from '../storage/types.js';
import type { RequestTarget } from '../util/request-target.js';
import { createConsoleHandler } from './handler.js';
import { filePriceStore } from './prices.js';
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter } from './rate-limit.js';
import { SqliteSessionStore, type SessionStore } from './session-store.js';
import { DEFAULT_LIFETIMES, Sessions } from './sessions.js';
import { ConsoleStatsQueries, type ConsoleStatsSource } from './stats-queries.js';

export { CONSOLE_PREFIX } from './handler.js';

export interface ConsoleOptions {
  store: Store;
  config: ServerConfig;
  lookup: CredentialLookup;
  keys: KeyStore;
  rootAccessKeyId: string;
  usage?: UsageRecorder;
  env: NodeJS.ProcessEnv;
  endpoint: () => string;
  websiteEndpoint?: () => string | undefined;
  /** Another session store (a shared one); default: SQLite in the data folder. */
  sessionStore?: SessionStore;
  /** Another reader of the usage tables (PostgreSQL); default: the SQLite tables of `usage`. */
  stats?: ConsoleStatsSource;
}

export interface Console {
  handler: (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void;
  close(): void;
}

/** The built front end: dist/console-ui/, beside this layer's compiled dist/console/. */
const STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'console-ui');

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a whole number above 0, got "${raw}"`);
  return n;
}

export function startConsole(opts: ConsoleOptions): Console {
  const env = opts.env;
  const lifetimes = {
    idleMs: envNumber(env, 'OFFLOAD_CONSOLE_IDLE_MS', DEFAULT_LIFETIMES.idleMs),
    maxAgeMs: envNumber(env, 'OFFLOAD_CONSOLE_MAX_AGE_MS', DEFAULT_LIFETIMES.maxAgeMs),
  };
  const limits = {
    maxFailures: envNumber(env, 'OFFLOAD_CONSOLE_SIGNIN_MAX_FAILURES', DEFAULT_SIGN_IN_LIMITS.maxFailures),
    windowMs: envNumber(env, 'OFFLOAD_CONSOLE_SIGNIN_WINDOW_MS', DEFAULT_SIGN_IN_LIMITS.windowMs),
  };
  const sessionStore = opts.sessionStore ?? new SqliteSessionStore(opts.config.dataDir);
  // Without usage recording there is no usage page; with it, the shared reader or the SQLite one.
  let stats: ConsoleStatsSource | undefined = opts.usage && opts.stats;
  const usageDb = opts.usage?.db;
  const usageStats = () => (stats ??= usageDb && new ConsoleStatsQueries(usageDb));
  const handler = createConsoleHandler({
    store: opts.store,
    config: opts.config,
    lookup: opts.lookup,
    keys: opts.keys,
    rootAccessKeyId: opts.rootAccessKeyId,
    sessions: new Sessions(sessionStore, lifetimes, opts.lookup, opts.rootAccessKeyId),
    limiter: new SignInLimiter(limits),
    prices: filePriceStore(opts.config.dataDir),
    usage: opts.usage,
    stats: usageStats,
    staticDir: STATIC_DIR,
    version: packageVersion(),
    endpoint: opts.endpoint,
    websiteEndpoint: opts.websiteEndpoint,
  });
  return { handler, close: () => void sessionStore.close() };
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
