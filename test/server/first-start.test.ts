/**
 * The one-time root secret is never lost: a first start that generated the keys but could not
 * listen (a busy port) shows them at the next start, and only once; keys from the environment
 * are named as such in the banner instead of pointing at a root.json that holds no secret.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/server.js';

let dataDir: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'offload-first-start-'));
  busy = createServer();
  busyPort = await new Promise<number>((r) => busy.listen(0, '127.0.0.1', () => r((busy.address() as { port: number }).port)));
});
afterAll(() => {
  busy.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OFFLOAD_')));

/** Runs `offload serve` until it prints its listening line (then SIGTERM) or exits on its own. */
function serve(port: number, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir], { env: { ...CLEAN_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('offload listening on')) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('the first start', () => {
  it('fails on a busy port without printing a secret it then never shows', async () => {
    const failed = await serve(busyPort);
    expect(failed.code).not.toBe(0);
    expect(failed.out).not.toContain('Root secret key');
    const secret = (JSON.parse(readFileSync(join(dataDir, 'root.json'), 'utf8')) as { secretAccessKey: string }).secretAccessKey;

    const next = await serve(0);
    expect(next.out).toContain(`Root secret key:  ${secret}`);
    expect(next.out).toContain('shown only this once');

    const third = await serve(0);
    expect(third.out).not.toContain(secret);
    expect(third.out).toMatch(/Root access key: +OFL\w+ +\(secret in .*root\.json\)/);
  });

  it('names the environment when the root keys come from it', async () => {
    const run = await serve(0, { OFFLOAD_ROOT_ACCESS_KEY: 'ENVROOTKEY0000000001', OFFLOAD_ROOT_SECRET_KEY: 'env-secret-0123456789' });
    expect(run.out).toContain('Root access key:  ENVROOTKEY0000000001  (secret from OFFLOAD_ROOT_SECRET_KEY)');
    expect(run.out).not.toContain('env-secret-0123456789');
    expect(run.out).not.toContain('root.json');
  });
});
