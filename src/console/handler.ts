/**
 * The console's entrance: `/_offload/console/api/...` is the JSON API, the rest of
 * `/_offload/console/` the built front end. Every answer carries the console's security headers;
 * API answers are never cached. On the console's own port, `/` leads to the console and any
 * other path is 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { RequestTarget } from '../util/request-target.js';
import type { ConsoleDeps, SignedInCall } from './deps.js';
import { ConsoleError, csrfRefused, notFound, notSignedIn } from './errors.js';
import { setSecurityHeaders, writeConsoleError, writeJson } from './http.js';
import { matchRoute } from './routes.js';
import { serveStatic } from './static.js';

export const CONSOLE_PREFIX = '/_offload/console';
const API_PREFIX = `${CONSOLE_PREFIX}/api`;
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export function createConsoleHandler(deps: ConsoleDeps): (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void {
  return (req, res, target) => {
    setSecurityHeaders(res);
    answer(req, res, target, deps).catch((err: unknown) => writeConsoleError(req, res, err));
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, { rawPath, rawQuery }: RequestTarget, deps: ConsoleDeps): Promise<void> {
  const method = req.method ?? 'GET';
  if (rawPath === '/' && SAFE_METHODS.has(method)) {
    res.writeHead(302, { Location: `${CONSOLE_PREFIX}/`, 'Content-Length': 0 }).end();
    return;
  }
  if (rawPath !== CONSOLE_PREFIX && !rawPath.startsWith(`${CONSOLE_PREFIX}/`)) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end('Not Found: this port serves the Offload console only, under /_offload/console/\n');
    return;
  }
  if (rawPath !== API_PREFIX && !rawPath.startsWith(`${API_PREFIX}/`)) return serveStatic(req, res, rawPath.slice(CONSOLE_PREFIX.length), deps.staticDir);
  res.setHeader('Cache-Control', 'no-store');
  const found = matchRoute(method, rawPath.slice(API_PREFIX.length));
  if (!found) throw notFound();
  if ('methods' in found) throw new ConsoleError(405, 'MethodNotAllowed', `Use ${found.methods.join(' or ')} here.`, { Allow: found.methods.join(', ') });
  // Reads of a shared metadata store see other servers' writes (as the S3 handler does).
  await deps.store.refresh();
  const session = await deps.sessions.resume(req);
  if (!found.route.open) {
    if (!session) throw notSignedIn();
    if (!SAFE_METHODS.has(method) && !csrfMatches(req.headers['x-offload-csrf'], session.record.csrfToken)) throw csrfRefused();
  }
  const call = { req, res, deps, params: found.params, query: new URLSearchParams(rawQuery), session } as SignedInCall;
  const answered = await found.route.handler(call);
  if (answered) writeJson(res, answered.status ?? 200, answered.body, answered.headers);
}

function csrfMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string' || sent.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}
