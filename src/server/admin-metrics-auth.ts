/**
 * Who may read /_offload/metrics: a request signed with the root credentials, or one carrying
 * `Authorization: Bearer <token>` equal to --metrics-token (how Prometheus scrapers authenticate),
 * compared in constant time; or anyone with OFFLOAD_METRICS_PUBLIC=1.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../errors/s3-error.js';

/** Whether the request carries the metrics bearer token; AccessDenied for a wrong one. */
export function hasMetricsToken(req: IncomingMessage, token: string | undefined): boolean {
  const value = req.headers.authorization;
  if (token === undefined || value === undefined || !/^bearer\s/i.test(value)) return false;
  // Hashing first gives equal lengths, so timingSafeEqual says nothing about the token's length either.
  const given = createHash('sha256').update(value.slice(7).trim()).digest();
  const wanted = createHash('sha256').update(token).digest();
  if (!timingSafeEqual(given, wanted)) throw new S3Error('AccessDenied', 'The metrics bearer token is not the one this server was started with.');
  return true;
}
