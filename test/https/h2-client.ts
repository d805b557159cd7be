/** Signed S3 requests over HTTP/2 with Node's http2 client, for the HTTPS tests. */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/cli/admin-client.js';
import type { TestServer } from '../helpers/server.js';

export interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function h2Connect(server: TestServer, caFile: string, servername?: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://127.0.0.1:${server.tlsPort!}`, { ca: readFileSync(caFile), servername });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** A request signed as the SDK signs it, `host` being the `:authority` (SigV4 over h2). */
export async function h2Signed(session: ClientHttp2Session, server: TestServer, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer; anonymous?: boolean } = {}): Promise<H2Answer> {
  const body = opts.body ?? Buffer.alloc(0);
  const authority = `127.0.0.1:${server.tlsPort!}`;
  let headers: Record<string, string> = { host: authority, ...(opts.headers ?? {}) };
  if (!opts.anonymous) {
    const signer = new SignatureV4({ service: 's3', region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
    const [pathname, query = ''] = path.split('?') as [string, string?];
    const signed = await signer.sign({
      method, protocol: 'https:', hostname: '127.0.0.1', port: server.tlsPort, path: pathname,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers: { ...headers, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') },
      body,
    });
    headers = signed.headers as Record<string, string>;
  }
  const { host: _host, ...rest } = headers;
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ':authority': authority, ...rest, ...(body.length > 0 ? { 'content-length': String(body.length) } : {}) });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    stream.on('response', (h) => { head = h; });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (!stream.writableEnded) stream.end(body.length > 0 ? body : undefined);
  });
}
