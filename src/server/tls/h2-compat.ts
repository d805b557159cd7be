/**
 * Node's HTTP/2 compatibility objects (Http2ServerRequest/Http2ServerResponse) stand in for
 * IncomingMessage/ServerResponse, so the one S3 handler serves both protocols. What differs, and
 * is evened out here once per request rather than in every handler:
 * - there is no Host header, only `:authority`: SigV4 signs it as `host` and the router reads the
 *   bucket from it, so it is copied to `host`;
 * - HTTP/1 connection headers (Connection, Transfer-Encoding, Keep-Alive...) are forbidden and
 *   would throw: they are dropped (a stream closes on its own; h2 frames its bodies itself);
 * - `req.socket` is the whole connection's, shared by every stream: a body's own byte count is
 *   kept (`bodyBytesRead`) for the body timeouts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

const CONNECTION_HEADERS = new Set(['connection', 'transfer-encoding', 'keep-alive', 'proxy-connection', 'upgrade']);

export function isHttp2(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  return req.httpVersionMajor === 2;
}

/** Makes an h2 request and response look like HTTP/1's to the handlers. */
export function adaptHttp2(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const authority = req.headers[':authority'];
  if (req.headers.host === undefined && typeof authority === 'string') req.headers.host = authority;
  countBodyBytes(req);
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (!CONNECTION_HEADERS.has(name.toLowerCase())) setHeader(name, value);
    return res;
  };
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: unknown) => Http2ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    // writeHead(status, [message,] headers): the message is an HTTP/1 thing and has no place in h2.
    const headers = rest.length > 1 ? rest[1] : typeof rest[0] === 'string' ? undefined : rest[0];
    return writeHead(status, withoutConnectionHeaders(headers));
  }) as Http2ServerResponse['writeHead'];
  // Set by the HTTP/1 code paths to end keep-alive; harmless on a stream, kept as a plain field.
  (res as unknown as { shouldKeepAlive: boolean }).shouldKeepAlive = false;
}

function withoutConnectionHeaders(headers: unknown): unknown {
  if (headers === undefined || headers === null) return headers;
  if (Array.isArray(headers)) {
    const flat = headers.length > 0 && Array.isArray(headers[0]) ? (headers as string[][]).flat() : (headers as string[]);
    const kept: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) if (!CONNECTION_HEADERS.has(String(flat[i]).toLowerCase())) kept.push(flat[i]!, flat[i + 1]!);
    // The compatibility layer takes header objects; a flat array is turned into one.
    const object: Record<string, string | string[]> = {};
    for (let i = 0; i < kept.length; i += 2) {
      const name = kept[i]!.toLowerCase();
      const prior = object[name];
      object[name] = prior === undefined ? kept[i + 1]! : [...(Array.isArray(prior) ? prior : [prior]), kept[i + 1]!];
    }
    return object;
  }
  const object: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) if (!CONNECTION_HEADERS.has(name.toLowerCase())) object[name] = value;
  return object;
}

/** The body bytes this stream has received so far (the request's own, not the connection's). */
function countBodyBytes(req: Http2ServerRequest): void {
  const counted = req as Http2ServerRequest & { bodyBytesRead: number };
  counted.bodyBytesRead = 0;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk !== null && chunk !== undefined) counted.bodyBytesRead += (chunk as Buffer).length;
    return push(chunk, encoding);
  };
}

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
