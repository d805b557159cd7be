/** Raw HTTP for hostile-input tests: requests signed with the SDK's own SigV4 signer, then bent. */
import { connect } from 'node:net';
import { createHash } from 'node:crypto';
// The same SigV4 hash adapter the CLI's admin client uses.
import { Sha256 } from '../../src/cli/admin-client.js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { TestServer } from './server.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as they are and reads until the server closes or the response is complete. */
export function rawRequest(server: TestServer, data: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response in ${timeoutMs} ms: ${Buffer.concat(chunks).toString()}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: text.slice(split + 4) });
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, split))?.[1];
      if (length !== undefined && Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', finish);
    socket.on('error', () => finish());
    socket.write(data);
  });
}

export interface SignedParts {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Signs a request with the SDK signer (header auth, signed payload) and returns its parts. */
export async function signRequest(server: TestServer, req: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string | Buffer; date?: Date; secret?: string }): Promise<SignedParts> {
  const signer = new SignatureV4({
    service: 's3',
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: req.secret ?? server.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const body = req.body ?? '';
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: req.path,
      query: req.query ?? {},
      headers: {
        host: `127.0.0.1:${server.port}`,
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        ...(req.headers ?? {}),
      },
      body,
    },
    { signingDate: req.date ?? new Date() },
  );
  return { method: req.method, path: req.path, query: req.query, headers: signed.headers as Record<string, string>, body };
}

/** Serialises request parts to HTTP/1.1 bytes (Content-Length added unless given). */
export function toHttp(parts: SignedParts): Buffer {
  const body = typeof parts.body === 'string' ? Buffer.from(parts.body) : (parts.body ?? Buffer.alloc(0));
  const qs = parts.query && Object.keys(parts.query).length ? '?' + new URLSearchParams(parts.query).toString() : '';
  const headers = { ...parts.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length') && !Object.keys(headers).some((h) => h.toLowerCase() === 'transfer-encoding')) {
    headers['content-length'] = String(body.length);
  }
  const head = `${parts.method} ${parts.path}${qs} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
