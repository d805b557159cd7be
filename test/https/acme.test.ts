/**
 * Automatic certificates against a real ACME server (pebble, validating HTTP-01 against Offload's
 * plain port through a DNS that answers 127.0.0.1): a CNAME bucket's domain gets a certificate
 * that a client trusting pebble's root accepts, kept in the data folder 0600, renewed when told it
 * is near expiry, and no certificate is asked for a name nothing claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CHALLTESTSRV, freePort, PEBBLE, startPebble, type Pebble } from './pebble.js';

const DOMAIN = 'media.example.test';

function handshake(port: number, servername: string, ca?: string): Promise<{ cert: PeerCertificate; authorized: boolean; error?: Error }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      resolve({ cert: socket.getPeerCertificate(), authorized: socket.authorized, error: socket.authorizationError });
      socket.end();
    });
    socket.setTimeout(60_000, () => socket.destroy(new Error('handshake timed out')));
    socket.once('error', reject);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(missingPeer('pebble', existsSync(PEBBLE) && existsSync(CHALLTESTSRV)))('ACME with pebble', () => {
  let ca: TestCa;
  let pebble: Pebble;
  let server: TestServer;
  let plainPort: number;
  let args: string[];
  let firstSerial: string;

  beforeAll(async () => {
    ca = await makeTestCa();
    plainPort = await freePort();
    pebble = await startPebble(ca, plainPort);
    args = ['--port', String(plainPort), '--tls-port', '0', '--acme-email', 'ops@example.test', '--acme-directory', pebble.directoryUrl, '--acme-ca-file', ca.caFile];
    server = await startServer({ args, env: { OFFLOAD_ACME_RETRY_MS: '500' } });
    const s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: DOMAIN }));
    await s3.send(new PutObjectCommand({ Bucket: DOMAIN, Key: 'logo.txt', Body: 'hello over https', ACL: 'public-read', ContentType: 'text/plain' }));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await pebble?.stop();
  });

  it('obtains a certificate for a CNAME bucket on its first handshake, trusted through pebble\'s root', async () => {
    const root = await pebble.root();
    expect(root).toContain('BEGIN CERTIFICATE');
    const { cert, authorized, error } = await handshake(server.tlsPort!, DOMAIN, root);
    expect(error).toBeNull();
    expect(authorized).toBe(true);
    expect(cert.subjectaltname).toContain(`DNS:${DOMAIN}`);
    firstSerial = cert.serialNumber;
    // And the bucket's object over it, by its own host name.
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port: server.tlsPort!, servername: DOMAIN, path: '/logo.txt', headers: { host: DOMAIN }, ca: root }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      }).once('error', reject).end();
    });
    expect(body).toBe('200 hello over https');
    expect(server.output()).toMatch(new RegExp(`ACME: obtained the certificate for ${DOMAIN.replace(/\./g, '\\.')}`));
  }, 90_000);

  it('keeps the certificate, its key and the account key in the data folder, 0600', () => {
    const folder = join(server.dataDir, 'tls', 'acme');
    const [caFolder] = readdirSync(folder);
    const files = readdirSync(join(folder, caFolder!)).sort();
    expect(files).toEqual(['account.key', `${DOMAIN}.crt`, `${DOMAIN}.key`]);
    for (const f of files) expect(statSync(join(folder, caFolder!, f)).mode & 0o777).toBe(0o600);
    expect(statSync(join(folder, caFolder!)).mode & 0o777).toBe(0o700);
  });

  it('refuses a name nothing claims, without asking the CA', async () => {
    const stranger = 'stranger.example.test';
    const { cert } = await handshake(server.tlsPort!, stranger);
    // The default certificate (the one it holds), never one for the stranger.
    expect(cert.subjectaltname).not.toContain(stranger);
    const refusal = `ACME: not requesting a certificate for "${stranger}": no bucket, --website-domain or --acme-domain claims it`;
    await waitFor('the refusal line', () => server.output().includes(refusal), 10_000);
    expect(server.output()).not.toMatch(/could not obtain a certificate for stranger/);
    const caFolder = readdirSync(join(server.dataDir, 'tls', 'acme'))[0]!;
    expect(readdirSync(join(server.dataDir, 'tls', 'acme', caFolder)).some((f) => f.startsWith(stranger))).toBe(false);
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });

  it('serves the kept certificate after a restart, and renews it when told it is near expiry', async () => {
    await server.stop({ keepData: true });
    server = await startServer({ dataDir: server.dataDir, args, env: { OFFLOAD_ACME_RETRY_MS: '500' } });
    expect((await handshake(server.tlsPort!, DOMAIN)).cert.serialNumber).toBe(firstSerial);
    expect(server.output()).not.toContain('ACME: obtained');
    await server.stop({ keepData: true });
    // The test hook: every certificate counts as past the renewal point (normally 2/3 of its lifetime).
    server = await startServer({ dataDir: server.dataDir, args, env: { OFFLOAD_ACME_RETRY_MS: '500', OFFLOAD_ACME_RENEW_AT: '0' } });
    await waitFor('the renewal', () => server.output().includes(`ACME: renewed the certificate for ${DOMAIN}`));
    const root = await pebble.root();
    const renewed = await handshake(server.tlsPort!, DOMAIN, root);
    expect(renewed.authorized).toBe(true);
    expect(renewed.cert.serialNumber).not.toBe(firstSerial);
  }, 120_000);
});
