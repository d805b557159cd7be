/** What every console answer shares: the security headers, JSON bodies in and out, cookies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { decodeBody } from '../auth/index.js';
import { badInput, ConsoleError, toConsoleError } from './errors.js';

/** The console's page may load only its own files: no inline script, no framing, no other origin. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * An object shown inline (preview) is the site owner's content, not the console's: a sandbox
 * without scripts, so an HTML or SVG object cannot act in the console's origin.
 */
export const PREVIEW_CSP = "sandbox; default-src 'none'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'unsafe-inline'; frame-ancestors 'self'";

export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

export function writeConsoleError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const e = toConsoleError(err);
  if (e.status >= 500) console.error(`offload: console ${req.method ?? ''} ${(req.url ?? '').split('?')[0]!.slice(0, 200)}: ${e.code}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A body the answer did not read must not be taken for the next request on this connection.
  if (!req.complete) res.setHeader('Connection', 'close');
  writeJson(res, e.status, { error: { code: e.code, message: e.message } }, e.headers);
}

const MAX_JSON_BYTES = 1024 * 1024;

/** The request's JSON body (an object), at most 1 MiB. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ConsoleError(415, 'UnsupportedMediaType', 'Send the request body as JSON (Content-Type: application/json).');
  const chunks: Buffer[] = [];
  let size = 0;
  // Through the S3 body reader: it answers Expect: 100-continue (curl sends it) and notices a cut connection.
  const body = decodeBody(req, { kind: 'unsigned' }, { headers: req.headers }).stream;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BYTES) throw new ConsoleError(413, 'MaxMessageLengthExceeded', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw badInput('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badInput('The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Over TLS (the https listener, or a TLS socket handed to us) the cookie is marked Secure. */
export function cameOverTls(req: IncomingMessage): boolean {
  return req.socket instanceof TLSSocket || (req.socket as { encrypted?: boolean }).encrypted === true;
}

export function clientAddress(req: IncomingMessage): string {
  const remote = req.socket.remoteAddress ?? 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

/** Typed field readers for JSON bodies: a wrong type is a 400 naming the field. */
export function stringField(body: Record<string, unknown>, name: string, opts: { optional?: boolean; max?: number } = {}): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw badInput(`"${name}" is required.`);
  }
  if (typeof v !== 'string') throw badInput(`"${name}" must be a string.`);
  if (v.length > (opts.max ?? 4096)) throw badInput(`"${name}" is too long.`);
  return v;
}

export function boolField(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badInput(`"${name}" must be true or false.`);
  return v;
}
