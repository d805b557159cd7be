/**
 * Load for the shared-limit tests: the same pre-signed request bytes sent over and over, each on a
 * fresh connection (so that the workers of a --workers server all take some), from several loops
 * at once, for a while. Returns how many answers had each status, and the seconds it ran.
 */
import type { TestServer } from '../helpers/server.js';
import { rawRequest } from '../helpers/raw.js';

export interface HammerResult {
  byStatus: Map<number, number>;
  seconds: number;
  retryAfter: Set<string>;
}

export async function hammer(targets: { server: TestServer; request: Buffer }[], opts: { seconds: number; loops: number }): Promise<HammerResult> {
  const byStatus = new Map<number, number>();
  const retryAfter = new Set<string>();
  const started = performance.now();
  const until = started + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.loops }, async (_, i) => {
      const { server, request } = targets[i % targets.length]!;
      while (performance.now() < until) {
        const res = await rawRequest(server, request);
        byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
        if (res.status === 503 && res.headers['retry-after'] !== undefined) retryAfter.add(res.headers['retry-after']);
      }
    }),
  );
  return { byStatus, seconds: (performance.now() - started) / 1000, retryAfter };
}
