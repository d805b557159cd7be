/**
 * Real origins for the origin-bucket tests: Debian's nginx on a free loopback port serving a
 * file tree (per-location Cache-Control, its own ETags, an access log the tests count), the
 * Offload server under test started with --allow-private-origins 127.0.0.1, and admin calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedRequest } from '../../src/cli/admin-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

export const NGINX = '/usr/sbin/nginx';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  port: number;
  url: string;
  root: string;
  /** Access-log lines ("METHOD /uri STATUS"), optionally only those for one path. */
  requests(path?: string): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

/** nginx serving `files` (or the existing tree `rootDir`), with `locations` (nginx location blocks) in its server block. */
export async function startNginx(files: Record<string, string | Buffer>, locations = '', rootDir?: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'offload-nginx-'));
  const root = rootDir ?? join(dir, 'root');
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  mkdirSync(join(root), { recursive: true });
  const port = await freePort();
  const log = join(dir, 'access.log');
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp-body;
  proxy_temp_path ${dir}/tmp-proxy;
  fastcgi_temp_path ${dir}/tmp-fastcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi;
  scgi_temp_path ${dir}/tmp-scgi;
  log_format counted '$request_method $uri $status';
  access_log ${log} counted;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    ${locations}
  }
}
`);
  let child: ChildProcess | undefined;
  const nginx: Nginx = {
    port,
    url: `http://127.0.0.1:${port}/`,
    root,
    requests(path) {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
      return path === undefined ? lines : lines.filter((l) => l.split(' ')[1] === path);
    },
    async start() {
      child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      for (let i = 0; i < 100; i++) {
        if (child.exitCode !== null) throw new Error(`nginx exited: ${err}`);
        const up = await fetch(`http://127.0.0.1:${port}/__nginx_probe__`).then(() => true, () => false);
        if (up) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nginx did not start: ${err}`);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async remove() {
      await nginx.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await nginx.start();
  return nginx;
}

/** The server under test, allowed to fetch from loopback origins (and only 127.0.0.1). */
export function startOriginServer(args: string[] = []): Promise<TestServer> {
  return startServer({ args: ['--allow-private-origins', '127.0.0.1', ...args] });
}

export function admin(server: TestServer, method: string, path: string, body?: unknown): Promise<Response> {
  const conn = { endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  return signedRequest(conn, method, path, body === undefined ? {} : { body: JSON.stringify(body) });
}

export async function setOrigin(server: TestServer, bucket: string, origin: Record<string, unknown>): Promise<void> {
  const res = await admin(server, 'PUT', `/_offload/buckets/${bucket}/origin`, origin);
  if (res.status !== 200) throw new Error(`setting the origin of ${bucket}: ${res.status} ${await res.text()}`);
}

export const errorCode = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

/** Waits until `check` holds (a background fill, an eviction), at most `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
