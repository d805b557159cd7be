/**
 * Signing and sending for the auth matrix: SigV4 (header and presigned) with the SDK's own signer,
 * SigV2 (header and query) written from the AWS documentation, and a raw sender that puts the bytes
 * on the wire exactly as given, so a test can add, drop or bend anything after signing.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/cli/admin-client.js';
import { rawRequest, type RawResponse } from '../helpers/raw.js';
import type { TestServer } from '../helpers/server.js';

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Target {
  method: string;
  /** Path as it goes on the wire (already percent-encoded where needed). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface WireRequest {
  method: string;
  /** Path and query exactly as they go on the request line. */
  target: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const keysOf = (server: TestServer, keys?: Partial<Keys>): Keys => ({
  accessKeyId: keys?.accessKeyId ?? server.accessKeyId,
  secretAccessKey: keys?.secretAccessKey ?? server.secretAccessKey,
});

function signer(server: TestServer, keys: Keys): SignatureV4 {
  return new SignatureV4({ service: 's3', region: server.region, credentials: keys, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
}

/** S3's query encoding (RFC 3986, spaces as %20), the way the SDKs put a signed query on the wire. */
export function encodeQuery(query: Record<string, string>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(query).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

const hostOf = (server: TestServer) => `127.0.0.1:${server.port}`;

/**
 * A presigned SigV4 URL's request, as the SDK makes it. Headers given are signed and sent;
 * `signableHeaders` widens what is signed (say, to sign user-agent without host).
 */
export async function presignV4(
  server: TestServer,
  t: Target,
  opts: { expiresIn?: number; date?: Date; keys?: Partial<Keys>; withoutHost?: boolean; signableHeaders?: string[] } = {},
): Promise<WireRequest> {
  // As the SDK's presigner: the payload is unsigned (the header is hoisted into the query).
  const headers = { ...(opts.withoutHost ? {} : { host: hostOf(server) }), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...(t.headers ?? {}) };
  const presigned = await signer(server, keysOf(server, opts.keys)).presign(
    { method: t.method, protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: t.path, query: t.query ?? {}, headers },
    {
      expiresIn: opts.expiresIn ?? 300,
      signingDate: opts.date ?? new Date(),
      // Keep the given headers as headers: hoisting them into the query would sign them another way.
      unhoistableHeaders: new Set(Object.keys(t.headers ?? {}).map((h) => h.toLowerCase())),
      signableHeaders: opts.signableHeaders ? new Set(opts.signableHeaders) : undefined,
    },
  );
  const query = presigned.query as Record<string, string>;
  return { method: t.method, target: `${t.path}?${encodeQuery(query)}`, headers: { host: hostOf(server), ...(t.headers ?? {}) } };
}

/** A header-signed SigV4 request with a signed payload hash, as the SDK makes it. */
export async function signV4(
  server: TestServer,
  t: Target & { body?: string | Buffer },
  opts: { date?: Date; keys?: Partial<Keys>; payloadHash?: string; unsignableHeaders?: string[] } = {},
): Promise<WireRequest> {
  const body = t.body ?? '';
  const headers = {
    host: hostOf(server),
    'x-amz-content-sha256': opts.payloadHash ?? createHash('sha256').update(body).digest('hex'),
    ...(t.headers ?? {}),
  };
  const signed = await signer(server, keysOf(server, opts.keys)).sign(
    { method: t.method, protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: t.path, query: t.query ?? {}, headers, body },
    { signingDate: opts.date ?? new Date(), unsignableHeaders: opts.unsignableHeaders ? new Set(opts.unsignableHeaders) : undefined },
  );
  const qs = t.query && Object.keys(t.query).length ? `?${encodeQuery(t.query)}` : '';
  return { method: t.method, target: `${t.path}${qs}`, headers: signed.headers as Record<string, string>, body };
}

/** SigV2's string to sign (AWS "Signing and authenticating REST requests"), path-style resource. */
function stringToSignV2(method: string, resource: string, headers: Record<string, string>, dateLine: string): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const amz = Object.keys(lower).filter((k) => k.startsWith('x-amz-')).sort().map((k) => `${k}:${lower[k]!.trim()}\n`).join('');
  return `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${dateLine}\n${amz}${resource}`;
}

const hmacSha1 = (secret: string, text: string) => createHmac('sha1', secret).update(text, 'utf8').digest('base64');

/** A SigV2 header-signed request. `resource` is the canonical resource (path plus sub-resources). */
export function signV2(server: TestServer, t: Target & { resource?: string; body?: string | Buffer }, opts: { date?: Date; keys?: Partial<Keys> } = {}): WireRequest {
  const keys = keysOf(server, opts.keys);
  const date = (opts.date ?? new Date()).toUTCString();
  const headers = { host: hostOf(server), date, ...(t.headers ?? {}) };
  const signature = hmacSha1(keys.secretAccessKey, stringToSignV2(t.method, t.resource ?? t.path, headers, date));
  const qs = t.query && Object.keys(t.query).length ? `?${encodeQuery(t.query)}` : '';
  return { method: t.method, target: `${t.path}${qs}`, headers: { ...headers, authorization: `AWS ${keys.accessKeyId}:${signature}` }, body: t.body };
}

/** A SigV2 presigned URL's request (query-string authentication); x-amz-* headers given are signed in. */
export function presignV2(server: TestServer, t: Target & { resource?: string }, opts: { expiresIn?: number; keys?: Partial<Keys> } = {}): WireRequest {
  const keys = keysOf(server, opts.keys);
  const expires = String(Math.floor(Date.now() / 1000) + (opts.expiresIn ?? 300));
  const signature = hmacSha1(keys.secretAccessKey, stringToSignV2(t.method, t.resource ?? t.path, t.headers ?? {}, expires));
  const query = { ...(t.query ?? {}), AWSAccessKeyId: keys.accessKeyId, Expires: expires, Signature: signature };
  return { method: t.method, target: `${t.path}?${encodeQuery(query)}`, headers: { host: hostOf(server), ...(t.headers ?? {}) } };
}

/** Sends the request's bytes as they are (Content-Length added when absent). */
export function send(server: TestServer, req: WireRequest): Promise<RawResponse> {
  const body = typeof req.body === 'string' ? Buffer.from(req.body) : (req.body ?? Buffer.alloc(0));
  const headers = { ...req.headers };
  if (!Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) headers['content-length'] = String(body.length);
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\nconnection: close\r\n\r\n`;
  return rawRequest(server, Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/** An S3 error document's Code and Message (and any other element asked for). */
export function errorOf(res: RawResponse, extra?: string): { status: number; code?: string; message?: string; extra?: string } {
  const pick = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(res.body)?.[1];
  return { status: res.status, code: pick('Code'), message: pick('Message'), ...(extra ? { extra: pick(extra) } : {}) };
}

/** An anonymous GET's status, and a check that the server still answers. */
export async function anonymousStatus(server: TestServer, path: string): Promise<number> {
  return (await send(server, { method: 'GET', target: path, headers: { host: hostOf(server) } })).status;
}

export async function serverAlive(server: TestServer): Promise<boolean> {
  const res = await fetch(`${server.endpoint}/`, { method: 'GET' });
  await res.arrayBuffer();
  return res.status === 403 && server.process.exitCode === null;
}

/**
 * A presigned SigV4 request built by hand, for what the SDK refuses to make (an expiry over a week)
 * or never makes (SignedHeaders without host). Same canonical request as the SDK's.
 */
export function presignV4Manual(
  server: TestServer,
  t: Target,
  opts: { expiresIn: number; date?: Date; signedHeaders?: string[]; keys?: Partial<Keys> },
): WireRequest {
  const keys = keysOf(server, opts.keys);
  const headers: Record<string, string> = { host: hostOf(server), ...(t.headers ?? {}) };
  const amzDate = (opts.date ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${server.region}/s3/aws4_request`;
  const signedHeaders = (opts.signedHeaders ?? ['host']).slice().sort();
  const query: Record<string, string> = {
    ...(t.query ?? {}),
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${keys.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(opts.expiresIn),
    'X-Amz-SignedHeaders': signedHeaders.join(';'),
  };
  const canonicalQuery = encodeQuery(Object.fromEntries(Object.entries(query).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join('');
  const request = [t.method, t.path, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(request).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, day), server.region), 's3'), 'aws4_request');
  const signature = hmac(key, stringToSign).toString('hex');
  return { method: t.method, target: `${t.path}?${encodeQuery({ ...query, 'X-Amz-Signature': signature })}`, headers };
}
