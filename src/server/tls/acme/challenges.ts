/**
 * Pending ACME HTTP-01 challenges, answered on the plain port under /.well-known/acme-challenge/:
 * the front door's first entrance (before the website, the redirect to HTTPS and the S3 API).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTarget } from '../../../util/request-target.js';

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export class PendingChallenges {
  private readonly http01 = new Map<string, string>();

  addHttp01(token: string, keyAuthorization: string): void {
    this.http01.set(token, keyAuthorization);
  }

  removeHttp01(token: string): void {
    this.http01.delete(token);
  }

  /** The front door's entrance for challenge paths: the key authorization, or 404. */
  answer(req: IncomingMessage, res: ServerResponse, target: RequestTarget): void {
    const token = target.rawPath.slice(ACME_CHALLENGE_PREFIX.length);
    const value = req.method === 'GET' || req.method === 'HEAD' ? this.http01.get(token) : undefined;
    const body = value ?? 'No such ACME challenge.\n';
    res.writeHead(value === undefined ? 404 : 200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', Server: 'Offload' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
