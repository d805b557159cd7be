/**
 * Starts the real `offload serve` (the built CLI in dist/) on a free loopback port with a
 * fresh data folder, for integration tests. Tests must run `npm run build` first
 * (`npm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface TestServer {
  endpoint: string;
  host: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dataDir: string;
  /** The website endpoint's port, when started with --website-port. */
  websitePort?: number;
  /** The HTTPS port, when started with TLS flags. */
  tlsPort?: number;
  process: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far (start-up warnings included). */
  output(): string;
  /** SIGTERM and wait for exit; removes the data folder unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL and wait for exit (crash tests); keeps the data folder. */
  kill(): Promise<void>;
}

export const CLI = resolve(import.meta.dirname, '../../bin/offload.js');

export interface StartOptions {
  /** A data folder to use (and keep); default: a fresh one, removed by stop(). */
  dataDir?: string;
  /** More `offload serve` flags. */
  args?: string[];
  env?: Record<string, string>;
  /** A command to run the server under, e.g. ['prlimit', '--nofile=300:300', '--']. */
  wrapper?: string[];
}

/** The one way tests start the server (every variant is an option here, not another starter). */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'offload-test-'));
  const accessKeyId = opts.env?.OFFLOAD_ROOT_ACCESS_KEY ?? 'OFFLOADTESTROOTKEY01';
  const secretAccessKey = opts.env?.OFFLOAD_ROOT_SECRET_KEY ?? 'offload-test-root-secret-key-0123456789';
  const region = 'us-east-1';
  const command = [process.execPath, CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, ...(opts.args ?? [])];
  const [program, ...programArgs] = [...(opts.wrapper ?? []), ...command] as [string, ...string[]];
  const child = spawn(program, programArgs, {
    env: { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: accessKeyId, OFFLOAD_ROOT_SECRET_KEY: secretAccessKey, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /offload listening on https?:\/\/[^:\s]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const websiteMatch = /offload website endpoint on http:\/\/[^:\s]+:(\d+)/.exec(output);
  const tlsMatch = /offload TLS listening on https:\/\/[^:\s]+:(\d+)/.exec(output);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    accessKeyId,
    secretAccessKey,
    region,
    dataDir,
    websitePort: websiteMatch ? Number(websiteMatch[1]) : undefined,
    tlsPort: tlsMatch ? Number(tlsMatch[1]) : undefined,
    process: child,
    output: () => output,
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      if (!keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
