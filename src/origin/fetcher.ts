/**
 * One request to a bucket's origin: HTTP(S) or SigV4-signed upstream S3, with the SSRF guard at
 * connect (the address connected to is the one the guard checked), a connect timeout, an idle
 * timeout on the answer, and redirects followed within the origin's own scheme, host and port
 * (at most MAX_REDIRECTS).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressGuard } from './address-guard.js';
import { OriginRefused } from './address-guard.js';
import { originKey, type OriginConfig } from './config.js';
import { encodeKeyPath, upstreamRequest } from './upstream-sign.js';

export const MAX_REDIRECTS = 3;

export interface OriginAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Read it or destroy it. */
  body: IncomingMessage;
  requestTime: number;
  responseTime: number;
}

export class OriginFetchError extends Error {
  constructor(readonly kind: 'timeout' | 'unreachable' | 'refused' | 'redirect', message: string) {
    super(message);
  }
}

export interface FetchInput {
  config: OriginConfig;
  key: string;
  method: 'GET' | 'HEAD';
  /** Conditional and range headers, plus the configured forwarded ones. */
  headers: Record<string, string>;
}

export async function fetchOrigin(guard: AddressGuard, input: FetchInput): Promise<OriginAnswer> {
  const { config } = input;
  const key = originKey(config, input.key);
  refuseDotSegments(key);
  const requestTime = Date.now();
  if (config.s3) {
    const signed = upstreamRequest(config.s3, key, input.method);
    return once(guard, config, signed.url, input.method, { ...input.headers, ...signed.headers }, requestTime);
  }
  let url = keyUrl(config.url!, key);
  for (let hop = 0; ; hop++) {
    const answer = await once(guard, config, url, input.method, input.headers, requestTime);
    const location = answer.headers.location;
    if (answer.status < 300 || answer.status > 399 || answer.status === 304 || location === undefined) return answer;
    answer.body.resume();
    const next = new URL(location, url);
    if (next.origin !== url.origin) throw new OriginFetchError('redirect', `the origin redirected to another host (${next.origin}); only redirects within the origin are followed`);
    if (hop + 1 > MAX_REDIRECTS) throw new OriginFetchError('redirect', `the origin redirected more than ${MAX_REDIRECTS} times`);
    url = next;
  }
}

/** URL parsers resolve `.` and `..` (even encoded): such a key would name another path or upstream bucket. */
function refuseDotSegments(key: string): void {
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) throw new OriginFetchError('refused', 'a key with "." or ".." segments is not fetched from an origin');
}

/**
 * The origin URL of a key: appended to the configured URL, never resolved against it, so that a
 * key like `//other.host/x` or `../admin` cannot leave the origin's host or path.
 */
export function keyUrl(base: string, key: string): URL {
  refuseDotSegments(key);
  const url = new URL(base + encodeKeyPath(key));
  const root = new URL(base);
  if (url.origin !== root.origin || !url.pathname.startsWith(root.pathname)) throw new OriginFetchError('refused', 'the key leaves the origin URL');
  return url;
}

async function once(guard: AddressGuard, config: OriginConfig, url: URL, method: string, headers: Record<string, string>, requestTime: number): Promise<OriginAnswer> {
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  let address: string;
  try {
    address = await guard.resolve(url.hostname, port, config.allowPrivateAddresses);
  } catch (err) {
    if (err instanceof OriginRefused) throw new OriginFetchError('refused', err.message);
    throw err;
  }
  const transport = secure ? https : http;
  return new Promise<OriginAnswer>((resolve, reject) => {
    const req = transport.request({
      host: address,
      port,
      method,
      path: url.pathname,
      headers: { ...headers, host: url.host, 'user-agent': 'Offload-origin-fetch' },
      servername: secure && !/^[\d.]+$|:/.test(url.hostname) ? url.hostname : undefined,
      agent: false,
    });
    const connectTimer = setTimeout(() => req.destroy(new OriginFetchError('timeout', `no connection to the origin within ${config.connectTimeoutMs} ms`)), config.connectTimeoutMs);
    req.once('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    // Idle time on the socket: waiting for the head and any stall in the body.
    req.setTimeout(config.readTimeoutMs, () => req.destroy(new OriginFetchError('timeout', `the origin sent nothing for ${config.readTimeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err instanceof OriginFetchError ? err : new OriginFetchError('unreachable', `the origin could not be reached: ${err.message}`));
    });
    req.once('response', (res) => {
      clearTimeout(connectTimer);
      resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res, requestTime, responseTime: Date.now() });
    });
    req.end();
  });
}
