/**
 * What every `/_offload/` endpoint shares: the one root check and the JSON success answer.
 * Errors are thrown as S3Error and written by the front door as S3 XML, like the S3 API's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { authenticate } from '../auth/index.js';
import type { AuthResult, CredentialLookup } from '../auth/types.js';
import type { RequestTarget } from '../util/request-target.js';

export interface RootCheck {
  lookup?: CredentialLookup;
  /** Only this access key may use the admin API. */
  rootAccessKeyId?: string;
  region?: string;
}

/** The request's authentication, when it is signed by the root key; AccessDenied (or the signature's own error) otherwise. */
export function requireRoot(req: IncomingMessage, { rawPath, rawQuery }: RequestTarget, deps: RootCheck): AuthResult {
  if (deps.lookup === undefined || deps.rootAccessKeyId === undefined) throw new S3Error('AccessDenied', 'Authentication is not configured on this server.');
  const auth = authenticate({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers }, { region: deps.region ?? 'us-east-1', lookup: deps.lookup });
  if (auth.principal.kind !== 'user') throw new S3Error('AccessDenied', 'A request signed with the root credentials is required.');
  if (auth.principal.credential.accessKeyId !== deps.rootAccessKeyId) throw new S3Error('AccessDenied', 'Only the root credentials may use the admin API.');
  return auth;
}

export function methodNotAllowed(method: string, allow: string): S3Error {
  return new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'ADMIN' }, { Allow: allow });
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(headOnly ? undefined : text);
}

/** A path segment decoded, or left as it is when it is no valid percent-encoding. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
