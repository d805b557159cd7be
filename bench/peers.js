// @ts-check
/** Starting and stopping the servers under test: Offload, nginx (generated config) and s3rver. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'node:http';
import { freePort, startChild, killChild, tempDir, removeDir, run } from './util.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NGINX = '/usr/sbin/nginx';

/** An SDK client with a keep-alive pool wide enough for the concurrency used. */
export function s3Client(endpoint, accessKeyId, secretAccessKey, maxSockets = 128) {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets }), requestTimeout: 120_000 },
  });
}

/** Whether the URL answers any HTTP status. */
async function probeHttp(url) {
  try {
    await fetch(url, { method: 'HEAD' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Offload server on a fresh data dir. Returns { name, url, pid, client, stop, child }.
 * @param {{ workers?: number, name?: string }} [o]
 */
export async function startOffload(o = {}) {
  const data = tempDir('offload-bench-data-');
  const port = await freePort();
  const accessKeyId = 'BENCHROOTKEY00000000';
  const secretAccessKey = 'benchrootsecret0000000000000000000000000';
  const args = [join(ROOT, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data];
  if (o.workers) args.push('--workers', String(o.workers));
  const env = { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: accessKeyId, OFFLOAD_ROOT_SECRET_KEY: secretAccessKey };
  const child = await startChild(process.execPath, args, { env, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000 });
  const url = `http://127.0.0.1:${port}`;
  return {
    name: o.name ?? 'Offload',
    url,
    pid: child.pid,
    child,
    accessKeyId,
    secretAccessKey,
    client: s3Client(url, accessKeyId, secretAccessKey),
    /** Anonymous object URL. */
    objectUrl: (bucket, key) => `${url}/${bucket}/${key}`,
    async stop() {
      await killChild(child, 12000);
      removeDir(data);
    },
  };
}

/** s3rver 3 as a child process (so it does not share the harness's event loop). */
export async function startS3rver(buckets) {
  const bin = join(ROOT, 'node_modules/s3rver/bin/s3rver.js');
  if (!existsSync(bin)) return null;
  const dir = tempDir('offload-bench-s3rver-');
  const port = await freePort();
  const args = [bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '-s', '--no-vhost-buckets'];
  for (const b of buckets) args.push('--configure-bucket', b);
  const child = await startChild(process.execPath, args, { ready: /S3rver listening/, name: 's3rver', timeoutMs: 20000 });
  const url = `http://127.0.0.1:${port}`;
  return {
    name: 's3rver',
    url,
    pid: child.pid,
    child,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    client: s3Client(url, 'S3RVER', 'S3RVER'),
    objectUrl: (bucket, key) => `${url}/${bucket}/${key}`,
    async stop() {
      await killChild(child, 3000);
      removeDir(dir);
    },
  };
}

/** nginx with a generated config serving `rootDir` (files at rootDir/<bucket>/<key>); `workers` worker processes. */
export async function startNginx(rootDir, { workers = 2, name = 'nginx' } = {}) {
  if (!existsSync(NGINX)) return null;
  const dir = tempDir('offload-bench-nginx-');
  for (const d of ['tmp', 'logs']) mkdirSync(join(dir, d));
  const port = await freePort();
  const conf = `
daemon off;
master_process on;
worker_processes ${workers};
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_min_uses 1;
  open_file_cache_errors on;
  types { application/octet-stream bin; }
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} reuseport;
    root ${rootDir};
    location / { }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const check = await run(NGINX, ['-t', '-q', '-p', dir, '-c', confPath]);
  if (check.code !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  // nginx says nothing when it is up: poll the port.
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild(NGINX, ['-p', dir, '-c', confPath], { probe: () => probeHttp(url), name: 'nginx', timeoutMs: 15000 });
  return {
    name,
    url,
    objectUrl: (bucket, key) => `${url}/${bucket}/${key}`,
    async stop() {
      await killChild(child, 3000);
      removeDir(dir);
    },
  };
}
