/**
 * The rate-limit flags of `offload serve` (--rate-limit-rps, --anonymous-rps, --bandwidth,
 * --trusted-proxy): their commander options and the checks that turn them into ServeOptions.
 * Per-bucket limits and quotas are set at run time (admin API, `offload bucket limits`).
 */
import { Option } from 'commander';
import { parseByteSize } from '../util/size.js';
import type { ServerLimits } from '../s3/limits/limiter.js';

export interface RateLimitFlags {
  rateLimitRps?: string;
  anonymousRps?: string;
  bandwidth?: string;
  trustedProxy?: string[];
}

export function rateLimitOptions(): Option[] {
  return [
    new Option('--rate-limit-rps <n>', 'requests per second per access key; more get 503 SlowDown with Retry-After (default: no limit)').env('OFFLOAD_RATE_LIMIT_RPS'),
    new Option('--anonymous-rps <n>', 'anonymous requests per second per client address (default: no limit)').env('OFFLOAD_ANONYMOUS_RPS'),
    new Option('--bandwidth <rate>', 'body bytes per second per access key, and per client address for anonymous requests, e.g. 50MB/s (default: no limit)').env('OFFLOAD_BANDWIDTH'),
    new Option('--trusted-proxy <cidr...>', 'proxies whose X-Forwarded-For names the client, for per-client limits (e.g. 127.0.0.1/32)').env('OFFLOAD_TRUSTED_PROXY').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)]),
  ];
}

export function parseRateLimitFlags(flags: RateLimitFlags): ServerLimits | undefined {
  const limits: ServerLimits = {
    keyRps: flags.rateLimitRps === undefined ? undefined : rate('--rate-limit-rps', flags.rateLimitRps),
    anonymousRps: flags.anonymousRps === undefined ? undefined : rate('--anonymous-rps', flags.anonymousRps),
    bandwidth: flags.bandwidth === undefined ? undefined : byteRate('--bandwidth', flags.bandwidth),
    trustedProxies: flags.trustedProxy,
  };
  return Object.values(limits).some((v) => v !== undefined) ? limits : undefined;
}

function rate(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || n <= 0 || n > 1e9) throw new Error(`${flag} must be a positive number of requests per second, got "${value}"`);
  return n;
}

/** `50MB/s`, `1GiB`, `2000000`: bytes per second. */
export function byteRate(flag: string, value: string): number {
  const n = parseByteSize(value.trim().replace(/\/s$/i, ''));
  if (n === undefined || n <= 0) throw new Error(`${flag} must be a byte rate such as 50MB/s, got "${value}"`);
  return n;
}
