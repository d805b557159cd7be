/**
 * HTTPS from certificate files: SNI picks the certificate, TLS 1.2+ only, HTTP/2 and HTTP/1.1 by
 * ALPN on one port with S3 semantics (signatures with :authority as host, PUT, GET, Range, errors),
 * clear start-up errors for bad pairs, HSTS, and the website's HTTPS redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import { startServer, type TestServer } from '../helpers/server.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { h2Connect, h2Signed } from './h2-client.js';

const DAY = 86_400_000;

function peerCertificate(port: number, ca: string, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername, ALPNProtocols: ['http/1.1'] }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once('error', reject);
  });
}

function https1(port: number, ca: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, headers, agent: false, ALPNProtocols: ['http/1.1'] } as RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), alpn: (res.socket as { alpnProtocol?: string | false }).alpnProtocol ?? null }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('HTTPS from certificate files', () => {
  let ca: TestCa;
  let server: TestServer;

  beforeAll(async () => {
    ca = await makeTestCa();
    const a = ca.write('a', await ca.issue(['a.test', '127.0.0.1']));
    const b = ca.write('b', await ca.issue(['b.test', '*.cdn.test']));
    server = await startServer({ args: ['--tls-cert', a.cert, '--tls-key', a.key, '--tls-cert', b.cert, '--tls-key', b.key, '--tls-port', '0', '--hsts', '600'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('SNI picks the certificate naming the host; others and no SNI get the default (the first pair)', async () => {
    const port = server.tlsPort!;
    expect((await peerCertificate(port, ca.certPem, 'b.test')).subject.CN).toBe('b.test');
    expect((await peerCertificate(port, ca.certPem, 'img.cdn.test')).subject.CN).toBe('b.test');
    expect((await peerCertificate(port, ca.certPem, 'a.test')).subject.CN).toBe('a.test');
    expect((await peerCertificate(port, ca.certPem)).subject.CN).toBe('a.test');
    await expect(peerCertificate(port, ca.certPem, 'other.test')).rejects.toThrow(/altnames|Hostname/i);
  });

  it('refuses TLS 1.1 and below', async () => {
    await expect(new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: server.tlsPort!, ca: ca.certPem, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve(socket));
      socket.once('error', reject);
    })).rejects.toThrow();
  });

  it('negotiates HTTP/2 by ALPN and answers S3 PUT, GET, Range, HEAD and errors over it', async () => {
    const session = await h2Connect(server, ca.caFile);
    try {
      expect(session.alpnProtocol).toBe('h2');
      expect((await h2Signed(session, server, 'PUT', '/h2bucket')).status).toBe(200);
      const data = Buffer.from('0123456789abcdefghij'.repeat(1000));
      const put = await h2Signed(session, server, 'PUT', '/h2bucket/obj.bin', { body: data, headers: { 'content-type': 'application/octet-stream' } });
      expect(put.status).toBe(200);
      expect(put.headers.etag).toBeDefined();
      // The AWS SDK for Go (rclone) spells it `100-Continue`: still a continue, not 417.
      const continued = await h2Signed(session, server, 'PUT', '/h2bucket/go.bin', { body: data, headers: { expect: '100-Continue' } });
      expect(continued.status).toBe(200);
      const get = await h2Signed(session, server, 'GET', '/h2bucket/obj.bin');
      expect(get.status).toBe(200);
      expect(get.body.equals(data)).toBe(true);
      expect(get.headers.connection).toBeUndefined();
      expect(get.headers['strict-transport-security']).toBe('max-age=600');
      const range = await h2Signed(session, server, 'GET', '/h2bucket/obj.bin', { headers: { range: 'bytes=10-19' } });
      expect(range.status).toBe(206);
      expect(range.headers['content-range']).toBe(`bytes 10-19/${data.length}`);
      expect(range.body.toString()).toBe('abcdefghij');
      const head = await h2Signed(session, server, 'HEAD', '/h2bucket/obj.bin');
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe(String(data.length));
      const missing = await h2Signed(session, server, 'GET', '/h2bucket/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.toString()).toContain('<Code>NoSuchKey</Code>');
      const anonymous = await h2Signed(session, server, 'GET', '/h2bucket/obj.bin', { anonymous: true });
      expect(anonymous.status).toBe(403);
      expect(anonymous.body.toString()).toContain('<Code>AccessDenied</Code>');
      // A signature made for another host does not pass: :authority is what is checked.
      const list = await h2Signed(session, server, 'GET', '/h2bucket?list-type=2');
      expect(list.status).toBe(200);
      expect(list.body.toString()).toContain('<Key>obj.bin</Key>');
    } finally {
      session.close();
    }
  });

  it('answers HTTP/1.1 over TLS on the same port, with HSTS', async () => {
    const res = await https1(server.tlsPort!, ca.certPem, '/_offload/health');
    expect(res.alpn).toBe('http/1.1');
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=600');
    // Plain HTTP still answers, without HSTS.
    const plain = await fetch(`${server.endpoint}/_offload/health`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('start-up errors for certificate files', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await makeTestCa();
  });

  async function startupError(args: string[]): Promise<string> {
    const err = await startServer({ args }).then(
      async (s) => { await s.stop(); return new Error('server started'); },
      (e: unknown) => e as Error,
    );
    return err.message;
  }

  it('a key that does not match its certificate', async () => {
    const good = ca.write('good', await ca.issue(['x.test']));
    const other = ca.write('other', await ca.issue(['x.test']));
    const message = await startupError(['--tls-cert', good.cert, '--tls-key', other.key, '--tls-port', '0']);
    expect(message).toMatch(/server exited with 1/);
    expect(message).toContain('the private key does not match the certificate');
  });

  it('an expired certificate', async () => {
    const old = ca.write('old', await ca.issue(['x.test'], { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) }));
    const message = await startupError(['--tls-cert', old.cert, '--tls-key', old.key, '--tls-port', '0']);
    expect(message).toContain('the certificate has expired');
  });

  it('a certificate not valid yet', async () => {
    const future = ca.write('future', await ca.issue(['x.test'], { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 10 * DAY) }));
    const message = await startupError(['--tls-cert', future.cert, '--tls-key', future.key, '--tls-port', '0']);
    expect(message).toContain('the certificate is not valid yet');
  });

  it('unpaired flags, a missing file, a file that is not PEM', async () => {
    const pair = ca.write('pair', await ca.issue(['x.test']));
    expect(await startupError(['--tls-cert', pair.cert, '--tls-port', '0'])).toContain('--tls-cert and --tls-key go in pairs');
    expect(await startupError(['--tls-cert', `${pair.cert}.missing`, '--tls-key', pair.key, '--tls-port', '0'])).toContain('ENOENT');
    expect(await startupError(['--tls-cert', pair.key, '--tls-key', pair.key, '--tls-port', '0'])).toContain('no PEM certificate');
    expect(await startupError(['--hsts'])).toContain('--hsts needs HTTPS');
    expect(readFileSync(pair.key, 'utf8')).toContain('PRIVATE KEY');
  });
});
