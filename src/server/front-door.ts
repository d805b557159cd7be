/**
 * The one front door: every request on every listener comes here first. Its target is split
 * once, it is classified (website, console, admin or S3 API) from its host and path alone, before any
 * I/O, and handed to that entrance's handler, which authenticates it once and answers it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { splitTarget, type RequestTarget } from '../util/request-target.js';

export type Entrance = 'website' | 'console' | 'admin' | 's3';

export type EntranceHandler = (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void;

export interface FrontDoorOptions {
  /**
   * Hosts ending in this (`.<website domain>`) are website requests, whatever their path; undefined
   * when the website domain is the API's own (website requests then come only to the website port).
   */
  websiteHostSuffix?: string;
  /** The website port's listener: every request is a website request. */
  websiteOnly?: boolean;
  /** The console port's listener: every request goes to the console (which answers 404 off its paths). */
  consoleOnly?: boolean;
  /** `/_offload/console/` is the web console (off with --no-console). */
  console?: boolean;
}

/** Which entrance answers a request. Pure: a table test can pin it down. */
export function classify(host: string | undefined, rawPath: string, opts: FrontDoorOptions): Entrance {
  if (opts.websiteOnly) return 'website';
  if (opts.websiteHostSuffix !== undefined && hostName(host).endsWith(opts.websiteHostSuffix)) return 'website';
  if (opts.consoleOnly) return 'console';
  if (opts.console && (rawPath === '/_offload/console' || rawPath.startsWith('/_offload/console/'))) return 'console';
  if (rawPath.startsWith('/_offload/')) return 'admin';
  return 's3';
}

export function createFrontDoor(handlers: Record<Exclude<Entrance, 'console'>, EntranceHandler> & { console?: EntranceHandler }, opts: FrontDoorOptions): RequestListener {
  const withConsole = { ...opts, console: opts.console === true && handlers.console !== undefined };
  return (req, res) => {
    const target = splitTarget(req.url);
    const entrance = classify(req.headers.host, target.rawPath, withConsole);
    (entrance === 'console' ? handlers.console! : handlers[entrance])(req, res, target);
  };
}

function hostName(host: string | undefined): string {
  return (host ?? '').toLowerCase().replace(/:\d+$/, '');
}
