/**
 * The connection limits hold on the TLS port too, mapped to HTTP/2: a session over
 * --max-connections gets 503 SlowDown on its stream (health checks still answered), and a stalled
 * HTTP/2 upload stream is cut by the body timeout (400 RequestTimeout) as an HTTP/1.1 one is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { readFileSync } from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/cli/admin-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { h2Connect, h2Signed } from './h2-client.js';

describe('limits on the TLS port', () => {
  let ca: TestCa;
  let server: TestServer;

  beforeAll(async () => {
    ca = await makeTestCa();
    const pair = ca.write('limits', await ca.issue(['127.0.0.1']));
    server = await startServer({ args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0', '--max-connections', '2', '--body-timeout', '1'] });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a stalled HTTP/2 upload stream is answered 400 RequestTimeout', async () => {
    const session = await h2Connect(server, ca.caFile);
    try {
      expect((await h2Signed(session, server, 'PUT', '/slow')).status).toBe(200);
      const authority = `127.0.0.1:${server.tlsPort!}`;
      const signer = new SignatureV4({ service: 's3', region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
      const signed = await signer.sign({ method: 'PUT', protocol: 'https:', hostname: '127.0.0.1', port: server.tlsPort, path: '/slow/stalled.bin', query: {}, headers: { host: authority, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '100000' } });
      const { host: _host, ...headers } = signed.headers as Record<string, string>;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'PUT', ':path': '/slow/stalled.bin', ':authority': authority, ...headers });
        let head: IncomingHttpHeaders = {};
        let body = '';
        stream.on('response', (h) => { head = h; });
        stream.on('data', (c: Buffer) => { body += c.toString(); });
        stream.on('end', () => resolve({ status: Number(head[':status']), body }));
        stream.on('close', () => resolve({ status: Number(head[':status'] ?? 0), body }));
        stream.on('error', reject);
        stream.write(Buffer.alloc(1000, 1));
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('<Code>RequestTimeout</Code>');
      // The session itself lives on: other streams still work.
      expect((await h2Signed(session, server, 'GET', '/slow?list-type=2')).status).toBe(200);
    } finally {
      session.close();
    }
  }, 30_000);

  it('a session over --max-connections gets 503 SlowDown, health checks still answered', async () => {
    const held: ClientHttp2Session[] = [await h2Connect(server, ca.caFile), await h2Connect(server, ca.caFile)];
    try {
      // Both count once they have made a request (the handshake is done by then).
      for (const s of held) expect((await h2Signed(s, server, 'GET', '/_offload/health', { anonymous: true })).status).toBe(200);
      const over = await h2Connect(server, ca.caFile);
      const health = await h2Signed(over, server, 'GET', '/_offload/health', { anonymous: true });
      expect(health.status).toBe(200);
      const over2 = await new Promise<ClientHttp2Session>((resolve, reject) => {
        const s = connect(`https://127.0.0.1:${server.tlsPort!}`, { ca: readFileSync(ca.caFile) });
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
      const refused = await h2Signed(over2, server, 'GET', '/slow?list-type=2');
      expect(refused.status).toBe(503);
      expect(refused.body.toString()).toContain('<Code>SlowDown</Code>');
      over.destroy();
      over2.destroy();
    } finally {
      for (const s of held) s.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const again = await h2Connect(server, ca.caFile);
    expect((await h2Signed(again, server, 'GET', '/slow?list-type=2')).status).toBe(200);
    again.close();
  }, 30_000);
});

describe('shutdown with HTTP/2 sessions open', () => {
  it('sends GOAWAY to an idle session instead of waiting out the grace', async () => {
    const ca = await makeTestCa();
    const pair = ca.write('stop', await ca.issue(['127.0.0.1']));
    const server = await startServer({ args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0', '--shutdown-grace', '120'] });
    const session = await h2Connect(server, ca.caFile);
    expect((await h2Signed(session, server, 'GET', '/_offload/health', { anonymous: true })).status).toBe(200);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    // With a 120 s grace, this test's own timeout (30 s) fails unless the session is told to go.
    await server.stop();
    await goaway;
    expect(server.process.exitCode).toBe(0);
    session.destroy();
  }, 30_000);
});
