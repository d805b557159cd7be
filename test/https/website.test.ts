/**
 * The website endpoint with HTTPS: --https-redirect sends plain-HTTP visitors to the same host
 * and path on HTTPS (301) but never an ACME challenge, HSTS only on TLS answers, routing rules
 * without a Protocol keep the request's own, --tls-only answers nothing on plain HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CreateBucketCommand, PutBucketWebsiteCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(tls: { ca: string } | undefined, port: number, host: string, path: string): Promise<Answer> {
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host }, ...(tls ? { ca: tls.ca, servername: host.replace(/:\d+$/, '') } : {}), agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).once('error', reject).end();
  });
}

describe('website endpoint over HTTPS', () => {
  let ca: TestCa;
  let server: TestServer;

  beforeAll(async () => {
    ca = await makeTestCa();
    const pair = ca.write('site', await ca.issue(['site.web.test', 'www.example.test', '127.0.0.1']));
    server = await startServer({ args: ['--website-domain', 'web.test', '--website-port', '0', '--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0', '--https-redirect', '--hsts'] });
    const s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'site' }));
    await s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'index.html', Body: '<h1>home</h1>', ContentType: 'text/html', ACL: 'public-read' }));
    await s3.send(new PutBucketWebsiteCommand({
      Bucket: 'site',
      WebsiteConfiguration: {
        IndexDocument: { Suffix: 'index.html' },
        RoutingRules: [
          { Condition: { KeyPrefixEquals: 'old/' }, Redirect: { ReplaceKeyPrefixWith: 'new/' } },
          { Condition: { KeyPrefixEquals: 'away/' }, Redirect: { HostName: 'www.example.test', Protocol: 'http' } },
        ],
      },
    }));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('redirects plain-HTTP website requests to HTTPS (301), host and path kept, on the website port and website hosts', async () => {
    const tlsPort = server.tlsPort!;
    const onPort = await get(undefined, server.websitePort!, 'site.web.test', '/a/b.html?x=1');
    expect(onPort.status).toBe(301);
    expect(onPort.headers.location).toBe(`https://site.web.test:${tlsPort}/a/b.html?x=1`);
    const onApiPort = await get(undefined, server.port, `site.web.test:${server.port}`, '/');
    expect(onApiPort.status).toBe(301);
    expect(onApiPort.headers.location).toBe(`https://site.web.test:${tlsPort}/`);
    expect(onApiPort.headers['strict-transport-security']).toBeUndefined();
    // A Host header that is no host name is not echoed into a Location.
    expect((await get(undefined, server.websitePort!, 'evil.test/@x', '/')).status).toBe(400);
  });

  it('serves the site over HTTPS with HSTS, and keeps https in routing-rule redirects without a Protocol', async () => {
    const home = await get({ ca: ca.certPem }, server.tlsPort!, 'site.web.test', '/');
    expect(home.status).toBe(200);
    expect(home.body).toBe('<h1>home</h1>');
    expect(home.headers['strict-transport-security']).toBe('max-age=31536000');
    const moved = await get({ ca: ca.certPem }, server.tlsPort!, 'site.web.test', '/old/page.html');
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('https://site.web.test/new/page.html');
    const away = await get({ ca: ca.certPem }, server.tlsPort!, 'site.web.test', '/away/x');
    expect(away.status).toBe(301);
    expect(away.headers.location).toBe('http://www.example.test/away/x');
  });

  it('the S3 API on the plain port is not redirected', async () => {
    const res = await fetch(`${server.endpoint}/site/index.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('ACME challenges on the plain port', () => {
  // An ACME directory on a closed loopback port: orders fail (and are retried), nothing leaves the machine.
  const acme = ['--acme-email', 'ops@example.test', '--acme-directory', 'https://127.0.0.1:1/dir', '--tls-port', '0'];

  it('are answered before the HTTPS redirect, on the website port and the API port; a failed order is one line', async () => {
    const server = await startServer({ args: [...acme, '--website-domain', 'web.test', '--website-port', '0', '--https-redirect'] });
    try {
      const challenge = await get(undefined, server.websitePort!, 'site.web.test', '/.well-known/acme-challenge/unknown-token');
      expect(challenge.status).toBe(404);
      expect(challenge.body).toBe('No such ACME challenge.\n');
      expect((await get(undefined, server.port, `site.web.test:${server.port}`, '/.well-known/acme-challenge/x')).body).toBe('No such ACME challenge.\n');
      expect((await get(undefined, server.websitePort!, 'site.web.test', '/page')).status).toBe(301);
      // The failed order is one line, with when it is tried next.
      const failed = /offload: ACME: could not obtain a certificate for web\.test from https:\/\/127\.0\.0\.1:1\/dir \(attempt 1, next in \d+ s\): /;
      for (let i = 0; i < 150 && !failed.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(server.output()).toMatch(failed);
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('with --tls-only, the plain port answers challenges and sends everything else to HTTPS', async () => {
    const server = await startServer({ args: [...acme, '--tls-only'] });
    try {
      expect((await get(undefined, server.port, 'media.example.test', '/.well-known/acme-challenge/t')).status).toBe(404);
      const other = await get(undefined, server.port, 'media.example.test', '/bucket/key');
      expect(other.status).toBe(301);
      expect(other.headers.location).toBe(`https://media.example.test:${server.tlsPort!}/bucket/key`);
    } finally {
      await server.stop();
    }
  });
});

describe('--tls-only', () => {
  it('listens on HTTPS only (no ACME: no plain listener at all)', async () => {
    const ca = await makeTestCa();
    const pair = ca.write('only', await ca.issue(['127.0.0.1']));
    const server = await startServer({ args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0', '--tls-only'] });
    try {
      expect(server.output()).toMatch(/offload listening on https:\/\/127\.0\.0\.1:\d+/);
      expect(server.output()).not.toMatch(/offload listening on http:\/\//);
      const res = await get({ ca: ca.certPem }, server.tlsPort!, `127.0.0.1:${server.tlsPort!}`, '/_offload/health');
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
