/**
 * Connection cap (security issue, item 11b): past --max-connections a connection is answered
 * 503 SlowDown and closed instead of being dropped without an answer when descriptors run out;
 * health checks are still answered at the cap; once connections close, requests are served again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest } from '../helpers/raw.js';
import { defaultMaxConnections, maxConnectionsCeiling, openFilesLimit, RESERVED_DESCRIPTORS } from '../../src/server/fd-budget.js';
import { spawnSync } from 'node:child_process';
import { CLI } from '../helpers/server.js';

let server: TestServer;
let s3: S3Client;
const Bucket = 'capped';
const CAP = 50;

beforeAll(async () => {
  server = await startServer({ args: ['--max-connections', String(CAP)] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'ok.txt', Body: 'fine', ACL: 'public-read' }));
  // The SDK's keep-alive socket would hold a slot for the rest of the file.
  s3.destroy();
});
afterAll(async () => {
  await server?.stop();
});

const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Idle {
  socket: Socket;
  received: () => string;
  closed: () => boolean;
}

function idleSocket(): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.on('data', (c: Buffer) => { text += c.toString(); });
    socket.on('close', () => { closed = true; });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => text, closed: () => closed }));
    socket.once('error', reject);
  });
}

const get = (path: string) => rawRequest(server, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);

async function untilServed(): Promise<number> {
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await get(`/${Bucket}/ok.txt`)).status;
    if (status !== 200) await sleep(100);
  }
  return status;
}

describe('--max-connections', () => {
  it('answers connections past the cap 503 SlowDown, keeps health checks answered, and serves again once connections close', async () => {
    const sockets: Idle[] = [];
    for (let i = 0; i < CAP + 10; i++) sockets.push(await idleSocket());
    // Over-cap connections get a moment to send a request, then the answer comes anyway.
    await sleep(2500);
    const refused = sockets.filter((s) => s.received() !== '');
    expect(refused).toHaveLength(10);
    for (const s of refused) {
      expect(s.received()).toMatch(/^HTTP\/1\.1 503 /);
      expect(code(s.received())).toBe('SlowDown');
      expect(s.closed()).toBe(true);
    }
    const kept = sockets.filter((s) => s.received() === '');
    expect(kept.every((s) => !s.closed())).toBe(true);

    // At the cap: a request on a new connection is refused, a health check is answered.
    const over = await get(`/${Bucket}/ok.txt`);
    expect(over.status).toBe(503);
    expect(code(over.body)).toBe('SlowDown');
    expect(over.headers.connection).toBe('close');
    const health = await get('/_offload/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const head = await rawRequest(server, 'HEAD /_offload/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(head.status).toBe(200);

    // One slot frees: served again.
    kept[0]!.socket.destroy();
    expect(await untilServed()).toBe(200);

    for (const s of sockets) s.socket.destroy();
    expect(await untilServed()).toBe(200);
    // Every slot is back: a full cap's worth of connections is accepted again.
    const again: Idle[] = [];
    for (let i = 0; i < CAP - 1; i++) again.push(await idleSocket());
    expect((await get(`/${Bucket}/ok.txt`)).status).toBe(200);
    for (const s of again) s.socket.destroy();
  });

  it('refuses a cap the open-files limit cannot hold, naming the limit', () => {
    const limit = openFilesLimit();
    expect(limit).toBeDefined();
    const tooMany = maxConnectionsCeiling(limit) + 1;
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--data', '/nonexistent-offload-test', '--max-connections', String(tooMany)], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`--max-connections ${tooMany} is more than this process can hold`);
    expect(r.stderr).toContain(`open-files limit is ${limit}`);
  });

  it('defaults to half the descriptors left after the reserve for databases and the blob descriptor cache', () => {
    expect(defaultMaxConnections(20_000)).toBe(Math.floor((20_000 - RESERVED_DESCRIPTORS) / 2));
    expect(defaultMaxConnections(1024)).toBe(Math.floor((1024 - RESERVED_DESCRIPTORS) / 2));
    expect(openFilesLimit('Max open files            4096                 8192                 files     \n')).toBe(4096);
    expect(openFilesLimit('Max open files            unlimited            unlimited            files     \n')).toBeUndefined();
  });
});
