/**
 * Shutdown grace (security issue, item 11c): on SIGTERM, transfers in flight finish within
 * --shutdown-grace (OFFLOAD_SHUTDOWN_GRACE), and a client that stalls cannot hold the process
 * past it: the connection is cut and the process exits by the grace plus a small margin, with
 * one server process and with --workers.
 */
import { describe, expect, it } from 'vitest';
import { request, type IncomingMessage } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { signRequest } from '../helpers/raw.js';

const Bucket = 'grace';
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function seed(server: TestServer, key: string, body: Buffer): Promise<void> {
  const s3 = sdkClient(server);
  try {
    await s3.send(new CreateBucketCommand({ Bucket })).catch(() => undefined);
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ACL: 'public-read' }));
  } finally {
    s3.destroy();
  }
}

function exited(server: TestServer): Promise<number | null> {
  if (server.process.exitCode !== null) return Promise.resolve(server.process.exitCode);
  return new Promise((r) => server.process.once('exit', (code) => r(code)));
}

/** A GET whose reader takes a pause after every chunk; resolves with the bytes once the response ends. */
function slowDownload(server: TestServer, key: string, pauseMs: number): { started: Promise<void>; done: Promise<{ status: number; body: Buffer }> } {
  let started!: () => void;
  const startedP = new Promise<void>((r) => { started = r; });
  const done = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    request(`http://127.0.0.1:${server.port}/${Bucket}/${key}`, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        started();
        res.pause();
        setTimeout(() => res.resume(), pauseMs);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
  return { started: startedP, done };
}

/** A signed PUT whose body is written in `chunks` pieces, one every `everyMs`. */
async function slowUpload(server: TestServer, key: string, body: Buffer, chunks: number, everyMs: number): Promise<{ started: Promise<void>; done: Promise<number> }> {
  const parts = await signRequest(server, { method: 'PUT', path: `/${Bucket}/${key}`, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(body.length) } });
  let started!: () => void;
  const startedP = new Promise<void>((r) => { started = r; });
  const done = new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: parts.path, headers: parts.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const size = Math.ceil(body.length / chunks);
    void (async () => {
      for (let at = 0; at < body.length; at += size) {
        req.write(body.subarray(at, at + size));
        started();
        await sleep(everyMs);
      }
      req.end();
    })();
  });
  return { started: startedP, done };
}

/** A GET of a big object whose client never reads: the server's writes stall. */
function stalledDownload(server: TestServer, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`http://127.0.0.1:${server.port}/${Bucket}/${key}`, (res) => {
      res.pause();
      resolve();
    });
    req.on('error', () => undefined);
    req.on('timeout', reject);
    req.end();
  });
}

describe('--shutdown-grace', () => {
  it('lets a slow download and a slow upload in flight at SIGTERM finish, then exits 0', async () => {
    const server = await startServer({ args: ['--shutdown-grace', '8'] });
    const big = randomBytes(8 * MiB);
    await seed(server, 'big.bin', big);
    const upload = randomBytes(2 * MiB);
    const down = slowDownload(server, 'big.bin', 10);
    const up = await slowUpload(server, 'up.bin', upload, 20, 75);
    await Promise.all([down.started, up.started]);
    const exit = exited(server);
    server.process.kill('SIGTERM');
    const got = await down.done;
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(big.length);
    expect(sha(got.body)).toBe(sha(big));
    expect(await up.done).toBe(200);
    expect(await exit).toBe(0);

    const again = await startServer({ dataDir: server.dataDir });
    try {
      const s3 = sdkClient(again);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'up.bin' }));
      expect(head.ContentLength).toBe(upload.length);
      s3.destroy();
    } finally {
      await again.stop();
    }
  });

  for (const workers of [1, 2]) {
    it(`exits by the grace plus a margin when a client stalls (workers: ${workers}, grace from OFFLOAD_SHUTDOWN_GRACE)`, async () => {
      const server = await startServer({ args: ['--workers', String(workers)], env: { OFFLOAD_SHUTDOWN_GRACE: '2' } });
      try {
        await seed(server, 'huge.bin', randomBytes(32 * MiB));
        await stalledDownload(server, 'huge.bin');
        // Let the server fill the socket buffers and block on the stalled client.
        await sleep(300);
        const exit = exited(server);
        const t0 = performance.now();
        server.process.kill('SIGTERM');
        const code = await Promise.race([exit, sleep(15_000).then(() => 'still running')]);
        const seconds = (performance.now() - t0) / 1000;
        expect(code).toBe(0);
        // The grace (2 s) plus a margin for closing the store and, with workers, the primary's wait.
        expect(seconds).toBeLessThan(2 + 4);
        expect(seconds).toBeGreaterThan(1.5);
      } finally {
        await server.kill();
      }
    });
  }
});
