/**
 * The web console over HTTPS: served on the TLS port under /_offload/console/, over HTTP/1.1 and
 * HTTP/2, and its session cookie is Secure there (and only there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as h2connect } from 'node:http2';
import { startServer, type TestServer } from '../helpers/server.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

function signInOverHttp1(port: number, ca: string, accessKeyId: string, secretAccessKey: string): Promise<Answer> {
  const body = JSON.stringify({ accessKeyId, secretAccessKey });
  return new Promise((resolve, reject) => {
    const options: RequestOptions = {
      host: '127.0.0.1', port, ca, agent: false, method: 'POST', path: '/_offload/console/api/session',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    };
    const req = httpsRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

function signInOverHttp2(port: number, ca: string, accessKeyId: string, secretAccessKey: string): Promise<Answer & { protocol: string }> {
  const body = JSON.stringify({ accessKeyId, secretAccessKey });
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { ca });
    session.once('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/_offload/console/api/session', 'content-type': 'application/json' });
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => { headers = h as typeof headers; });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const protocol = session.alpnProtocol ?? '';
      session.close();
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString(), protocol });
    });
    stream.once('error', reject);
    stream.end(body);
  });
}

const cookieOf = (headers: Answer['headers']): string => {
  const value = headers['set-cookie'];
  return (Array.isArray(value) ? value : [value ?? '']).find((c) => c.startsWith('offload_session=')) ?? '';
};

describe('the console over HTTPS', () => {
  let ca: TestCa;
  let server: TestServer;

  beforeAll(async () => {
    ca = await makeTestCa();
    const pair = ca.write('console', await ca.issue(['127.0.0.1', 'localhost']));
    server = await startServer({ args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('signs in over HTTPS (HTTP/1.1) with a Secure, HttpOnly, SameSite=Strict cookie', async () => {
    const answer = await signInOverHttp1(server.tlsPort!, ca.certPem, server.accessKeyId, server.secretAccessKey);
    expect(answer.status).toBe(200);
    const cookie = cookieOf(answer.headers);
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('signs in over HTTP/2 with a Secure cookie', async () => {
    const answer = await signInOverHttp2(server.tlsPort!, ca.certPem, server.accessKeyId, server.secretAccessKey);
    expect(answer.protocol).toBe('h2');
    expect(answer.status).toBe(200);
    expect(cookieOf(answer.headers)).toMatch(/;\s*Secure/i);
  });

  it('gives no Secure flag over plain HTTP, where the browser would drop the cookie', async () => {
    const res = await fetch(`${server.endpoint}/_offload/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('offload_session=')) ?? '';
    expect(cookie).not.toBe('');
    expect(cookie).not.toMatch(/;\s*Secure/i);
  });
});
