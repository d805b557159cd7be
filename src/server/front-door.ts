/**
 * The one front door: every request on every listener comes here first. Its target is split
 * once, it is classified (website, console, admin or S3 API) from its host and path alone, before any
 * I/O, and handed to that entrance's handler, which authenticates it once and answers it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { splitTarget, type RequestTarget } from '../util/request-target.js';
import { ACME_CHALLENGE_PREFIX } from './tls/acme/challenges.js';

export type Entrance = 'website' | 'console' | 'admin' | 's3' | 'acme' | 'toHttps';

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
  /** A plain listener while ACME runs: its HTTP-01 challenge path is answered first, on every host. */
  acmeChallenges?: boolean;
  /** `--tls-only`: a plain listener answers nothing but ACME challenges; everything else is sent to HTTPS. */
  tlsOnly?: boolean;
}

/** Which entrance answers a request. Pure: a table test can pin it down. */
export function classify(host: string | undefined, rawPath: string, opts: FrontDoorOptions): Entrance {
  if (opts.acmeChallenges && rawPath.startsWith(ACME_CHALLENGE_PREFIX)) return 'acme';
  if (opts.tlsOnly) return 'toHttps';
  if (opts.websiteOnly) return 'website';
  if (opts.websiteHostSuffix !== undefined && hostName(host).endsWith(opts.websiteHostSuffix)) return 'website';
  if (opts.consoleOnly) return 'console';
  if (opts.console && (rawPath === '/_offload/console' || rawPath.startsWith('/_offload/console/'))) return 'console';
  if (rawPath.startsWith('/_offload/')) return 'admin';
  return 's3';
}

export type EntranceHandlers = Record<'website' | 'admin' | 's3', EntranceHandler> & Partial<Record<'console' | 'acme' | 'toHttps', EntranceHandler>>;

export function createFrontDoor(handlers: EntranceHandlers, opts: FrontDoorOptions): RequestListener {
  if (opts.acmeChallenges && !handlers.acme) throw new Error('front door: ACME challenges need their handler');
  if (opts.tlsOnly && !handlers.toHttps) throw new Error('front door: --tls-only needs the HTTPS redirect');
  const withConsole = { ...opts, console: opts.console === true && handlers.console !== undefined };
  return (req, res) => {
    const target = splitTarget(req.url);
    handlers[classify(req.headers.host, target.rawPath, withConsole)]!(req, res, target);
  };
}

function hostName(host: string | undefined): string {
  return (host ?? '').toLowerCase().replace(/:\d+$/, '');
}
