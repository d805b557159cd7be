/** What the console needs from the server, and what each API handler is given. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CredentialLookup } from '../auth/types.js';
import type { ServerConfig } from '../s3/context.js';
import type { KeyStore } from '../storage/keys.js';
import type { Store } from '../storage/types.js';
import type { UsageRecorder } from '../serving/usage.js';
import type { SignInLimiter } from './rate-limit.js';
import type { ActiveSession, Sessions } from './sessions.js';
import type { PriceStore } from './prices.js';
import type { ConsoleStatsSource } from './stats-queries.js';

export interface ConsoleDeps {
  store: Store;
  config: ServerConfig;
  lookup: CredentialLookup;
  keys: KeyStore;
  rootAccessKeyId: string;
  sessions: Sessions;
  limiter: SignInLimiter;
  prices: PriceStore;
  usage?: UsageRecorder;
  /** The usage tables' queries (undefined without usage recording). */
  stats: () => ConsoleStatsSource | undefined;
  /** The folder of the built front end (index.html and hashed assets). */
  staticDir: string;
  version: string;
  /** The public addresses shown in the console (object URLs, the info page). */
  endpoint: () => string;
  websiteEndpoint?: () => string | undefined;
}

export interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  deps: ConsoleDeps;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Undefined only for the routes that need no session (POST /session). */
  session?: ActiveSession;
}

export interface SignedInCall extends ApiCall {
  session: ActiveSession;
}

/** A JSON answer; a handler that wrote the response itself (a download) returns undefined. */
export type ApiAnswer = { status?: number; body: unknown; headers?: Record<string, string> } | undefined;

export interface Route {
  method: string;
  /** Path segments; `:name` matches one segment, decoded into params.name. */
  path: string;
  /** POST /session alone runs without a session. */
  open?: boolean;
  handler: (call: SignedInCall) => Promise<ApiAnswer>;
}
