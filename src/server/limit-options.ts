/**
 * The connection-limit flags of `offload serve` (--max-connections, --body-timeout,
 * --body-min-rate, --header-timeout, --shutdown-grace): their commander options and the checks
 * that turn their text into ServeOptions, kept here so serve.ts stays a list of flags.
 */
import { Option } from 'commander';
// Only types from index.js: a --workers primary loads this file and must not load the server.
import type { ServeOptions } from './serve-options.js';
import { defaultMaxConnections, maxConnectionsCeiling, openFilesLimit, RESERVED_DESCRIPTORS } from './fd-budget.js';

export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
export const DEFAULT_BODY_MIN_RATE = 500;
export const DEFAULT_HEADER_TIMEOUT_MS = 20_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface LimitFlags {
  maxConnections?: string;
  bodyTimeout: string;
  bodyMinRate: string;
  headerTimeout: string;
  shutdownGrace: string;
}

export function limitOptions(): Record<'maxConnections' | 'bodyTimeout' | 'bodyMinRate' | 'headerTimeout' | 'shutdownGrace', Option> {
  return {
    maxConnections: new Option('--max-connections <n>', `client connections per server process; more get 503 SlowDown (default: from the open-files limit, now ${defaultMaxConnections()})`).env('OFFLOAD_MAX_CONNECTIONS'),
    bodyTimeout: new Option('--body-timeout <seconds>', 'cut an upload whose body sends nothing for this long (0: off)').env('OFFLOAD_BODY_TIMEOUT').default(String(DEFAULT_BODY_TIMEOUT_MS / 1000)),
    bodyMinRate: new Option('--body-min-rate <bytes>', 'past the body timeout, cut an upload arriving slower on average than this many bytes/s (0: off)').env('OFFLOAD_BODY_MIN_RATE').default(String(DEFAULT_BODY_MIN_RATE)),
    headerTimeout: new Option('--header-timeout <seconds>', 'time a client has to send a request\'s headers').env('OFFLOAD_HEADER_TIMEOUT').default(String(DEFAULT_HEADER_TIMEOUT_MS / 1000)),
    shutdownGrace: new Option('--shutdown-grace <seconds>', 'on SIGTERM/SIGINT, how long in-flight requests may take before their connections are cut').env('OFFLOAD_SHUTDOWN_GRACE').default(String(DEFAULT_SHUTDOWN_GRACE_MS / 1000)),
  };
}

export function parseLimitFlags(flags: LimitFlags): Pick<ServeOptions, 'maxConnections' | 'bodyTimeoutMs' | 'bodyMinRate' | 'headerTimeoutMs'> & { shutdownGraceMs: number } {
  return {
    maxConnections: flags.maxConnections === undefined ? undefined : maxConnections(flags.maxConnections),
    bodyTimeoutMs: seconds('--body-timeout', flags.bodyTimeout, 0) * 1000,
    bodyMinRate: wholeNumber('--body-min-rate', flags.bodyMinRate, 0, 1e12),
    headerTimeoutMs: seconds('--header-timeout', flags.headerTimeout, 0.1) * 1000,
    shutdownGraceMs: seconds('--shutdown-grace', flags.shutdownGrace, 0) * 1000,
  };
}

function maxConnections(value: string): number {
  const ceiling = maxConnectionsCeiling();
  const n = wholeNumber('--max-connections', value, 1, Number.MAX_SAFE_INTEGER);
  if (n > ceiling) {
    const limit = openFilesLimit();
    throw new Error(
      `--max-connections ${n} is more than this process can hold: its open-files limit is ${limit ?? 'unknown (taken as 1024)'} and ${RESERVED_DESCRIPTORS} descriptors are kept for the databases and blob files, so at most ${ceiling}; raise the limit (ulimit -n, LimitNOFILE=) or lower the flag`,
    );
  }
  return n;
}

function seconds(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || n < min || n > 86_400) throw new Error(`${flag} must be a number of seconds from ${min} to 86400, got "${value}"`);
  return n;
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new Error(`${flag} must be a whole number from ${min}, got "${value}"`);
  return n;
}
