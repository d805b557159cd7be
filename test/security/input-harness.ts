/** Shared pieces of the hostile-input suite: one real server, signed raw requests, and the checks every case ends with. */
import { expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp, type RawResponse } from '../helpers/raw.js';

export interface Harness {
  server: TestServer;
  s3: S3Client;
  /** Server output (stderr and stdout) since start: what an operator's log would hold. */
  log: () => string;
  stop: () => Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const server = await startServer();
  let output = '';
  server.process.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  server.process.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  const s3 = sdkClient(server);
  return {
    server,
    s3,
    log: () => output,
    stop: async () => {
      s3.destroy();
      await server.stop();
    },
  };
}

export const code = (body: string): string | undefined => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];

/** A request signed with the root keys (header SigV4, signed payload), sent byte for byte. */
export async function signed(h: Harness, method: string, path: string, opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  const parts = await signRequest(h.server, { method, path, query: opts.query, headers: opts.headers, body: opts.body });
  // Unsigned, and lets a HEAD answer (Content-Length but no body) end with the connection.
  parts.headers.connection = 'close';
  // Encoded as the signer canonicalises it (RFC 3986, %20 for a space), not as URLSearchParams would.
  const qs = Object.entries(opts.query ?? {}).map(([k, v]) => (v === '' ? rfc3986(k) : `${rfc3986(k)}=${rfc3986(v)}`)).join('&');
  return rawRequest(h.server, toHttp({ ...parts, query: undefined, path: qs === '' ? path : `${path}?${qs}` }));
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Status and S3 error code, the two things every refusal is asserted on. */
export async function expectError(res: Pick<RawResponse, 'status' | 'body'> | Promise<Pick<RawResponse, 'status' | 'body'>>, status: number, errorCode: string): Promise<void> {
  const r = await res;
  expect({ status: r.status, code: code(r.body) }).toEqual({ status, code: errorCode });
}

/** The server still answers, with the right bytes. */
export async function expectAlive(h: Harness, bucket: string): Promise<void> {
  await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'alive.txt', Body: 'alive' }));
  const got = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'alive.txt' }));
  expect(await got.Body!.transformToString()).toBe('alive');
}

/** Nothing a refused upload wrote is left in the data folder's tmp/. */
export async function expectNoStrayFiles(h: Harness): Promise<void> {
  // Removal of a refused upload's temp file may trail its error response by a tick.
  for (let i = 0; i < 50; i++) {
    if (readdirSync(join(h.server.dataDir, 'tmp')).length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(readdirSync(join(h.server.dataDir, 'tmp'))).toEqual([]);
}
