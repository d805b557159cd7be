/** Running real S3 client programs (aws, s3cmd, rclone, python) as child processes in tests. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: string;
  /** stdout as raw bytes (binary output such as `rclone cat`). */
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs a program to completion; never throws for a non-zero exit (see mustRun). */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { out.push(c); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
  });
}

/** Runs a program and throws with its whole output unless it exits 0. */
export async function mustRun(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

/** True when `cmd args` runs and its combined output matches the pattern. */
export function probe(cmd: string, args: string[], pattern: RegExp, env?: NodeJS.ProcessEnv): boolean {
  try {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 && pattern.test(`${r.stdout}${r.stderr}`);
  } catch {
    return false;
  }
}

/** The first `name` on PATH whose `name args` output matches the pattern, or undefined. */
export function findOnPath(name: string, args: string[], pattern: RegExp): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    if (dir && existsSync(path) && probe(path, args, pattern)) return path;
  }
  return undefined;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `offload-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Writes files (relative path → content) under root and returns root. */
export function writeTree(root: string, files: Record<string, string | Buffer>): string {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return root;
}

/** Reads every file under root as relative path → content. */
export function readTree(root: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out[relative(root, path).split('\\').join('/')] = readFileSync(path);
    }
  };
  walk(root);
  return out;
}

/** A file of random bytes of the given size, written under dir. */
export function bigFile(dir: string, name: string, size: number): { path: string; data: Buffer } {
  const data = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, data };
}

/** Anonymous GET of a path on the server (no credentials). */
export async function anonGet(endpoint: string, path: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(`${endpoint}${path}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

export interface TlsFront {
  /** https://127.0.0.1:PORT, forwarding to the plain-http server. */
  endpoint: string;
  /** PEM file of the self-signed certificate, for --ca-bundle / AWS_CA_BUNDLE. */
  caFile: string;
  close(): Promise<void>;
}

/**
 * A TLS terminator in front of the plain-http server, with a throwaway self-signed certificate
 * made by openssl. Current botocore only streams aws-chunked bodies with checksum trailers
 * over https, so this is how the tests reach that code path.
 */
export async function startTlsFront(targetPort: number, dir: string): Promise<TlsFront> {
  const keyFile = join(dir, 'tls-key.pem');
  const caFile = join(dir, 'tls-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `https://127.0.0.1:${port}`,
    caFile,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
