/**
 * Certificate files are read again when they change and on SIGHUP: new handshakes get the new
 * certificate, while a download that started before the reload finishes on its connection, and a
 * broken replacement keeps the old certificate in use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { makeTestCa, serialOf, type TestCa } from '../helpers/tls.js';

const NAME = 'reload.test';

function serialServed(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: NAME, ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.once('error', reject);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('certificate reload', () => {
  let ca: TestCa;
  let server: TestServer;
  let files: { cert: string; key: string };
  const data = randomBytes(48 * 1024 * 1024);

  beforeAll(async () => {
    ca = await makeTestCa();
    files = ca.write('site', await ca.issue([NAME, '127.0.0.1']));
    server = await startServer({ args: ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-port', '0'] });
    const s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'big' }));
    await s3.send(new PutObjectCommand({ Bucket: 'big', Key: 'video.bin', Body: data, ACL: 'public-read' }));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('swaps the certificate on a file change and on SIGHUP without failing a download in flight', async () => {
    const port = server.tlsPort!;
    const before = await serialServed(port, ca.certPem);
    // A download over HTTPS that reads its first bytes, then stalls while the certificate changes.
    let res!: IncomingMessage;
    const hash = createHash('sha256');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, servername: NAME, path: '/big/video.bin', ca: ca.certPem, agent: false }, (r) => {
        res = r;
        r.once('data', (c: Buffer) => {
          hash.update(c);
          received += c.length;
          r.pause();
          resolve();
        });
      }).once('error', reject).end();
    });
    expect(res.statusCode).toBe(200);

    const next = await ca.issue([NAME, '127.0.0.1']);
    writeFileSync(files.key, next.keyPem);
    writeFileSync(files.cert, next.certPem);
    await waitFor('the file-change reload', () => server.output().includes('TLS certificates reloaded (file change)'));
    const after = await serialServed(port, ca.certPem);
    expect(after).not.toBe(before);
    expect(after).toBe(serialOf(next.certPem));

    // SIGHUP reads them again (nothing changed: the same certificate).
    server.process.kill('SIGHUP');
    await waitFor('the SIGHUP reload', () => server.output().includes('TLS certificates reloaded (SIGHUP)'));
    expect(await serialServed(port, ca.certPem)).toBe(after);

    // A broken replacement is refused; the certificate in use stays.
    const failuresBefore = count(server.output(), 'failed, the previous certificates stay in use');
    writeFileSync(files.key, 'not a key');
    await waitFor('the failed reload', () => count(server.output(), 'failed, the previous certificates stay in use') > failuresBefore);
    expect(await serialServed(port, ca.certPem)).toBe(after);

    // The download started before all this finishes, every byte intact.
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => {
        hash.update(c);
        received += c.length;
      });
      res.once('end', resolve);
      res.once('error', reject);
      res.resume();
    });
    expect(received).toBe(data.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  }, 60_000);
});
