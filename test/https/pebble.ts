/**
 * Let's Encrypt's test CA, pebble (Debian's package), and its challenge test server as the DNS
 * that answers 127.0.0.1 for every name, both on loopback: an ACME server that really validates
 * HTTP-01 against Offload's plain port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestCa } from '../helpers/tls.js';

export const PEBBLE = '/usr/bin/pebble';
export const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';

export interface Pebble {
  directoryUrl: string;
  /** Pebble's issuing root, as its management interface hands it out. */
  root(): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function started(child: ChildProcess, pattern: RegExp, log: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${log.text}`)), 20_000);
    const onData = (c: Buffer) => {
      log.text += c.toString();
      if (pattern.test(log.text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}:\n${log.text}`)); });
  });
}

/** Pebble validating HTTP-01 on `httpPort` of 127.0.0.1, its own HTTPS certificate from the test CA. */
export async function startPebble(ca: TestCa, httpPort: number): Promise<Pebble> {
  const [acmePort, managementPort, dnsPort, challMgmtPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const own = ca.write('pebble', await ca.issue(['localhost', '127.0.0.1']));
  const config = join(ca.dir, 'pebble-config.json');
  writeFileSync(config, JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${managementPort}`, certificate: own.cert, privateKey: own.key, httpPort, tlsPort: 5001, ocspResponderURL: '', externalAccountBindingRequired: false } }));
  const log = { text: '' };
  const dns = spawn(CHALLTESTSRV, ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challMgmtPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  await started(dns, /Starting management server|Answering DNS/i, log);
  const pebble = spawn(PEBBLE, ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' } });
  await started(pebble, /Listening on|ACME directory available/i, log);
  const stopOne = (child: ChildProcess) => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    async root() {
      const { request } = await import('node:https');
      return new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port: managementPort, path: '/roots/0', ca: ca.certPem }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => { body += c.toString(); });
          res.on('end', () => resolve(body));
        }).once('error', reject).end();
      });
    },
    output: () => log.text,
    async stop() {
      await Promise.all([stopOne(pebble), stopOne(dns)]);
    },
  };
}
