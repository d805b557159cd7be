/**
 * A tiny Node HTTP origin that controls its body byte by byte: the first client of a miss gets
 * the body as it arrives (the origin holds back the second half until the client has the first),
 * and an origin that dies mid-transfer leaves nothing stored.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import type { TestServer } from '../helpers/server.js';
import { eventually, setOrigin, startOriginServer } from './_origin.js';

const BODY = randomBytes(2 * 1024 * 1024);
const HALF = BODY.length / 2;
let origin: Server;
let server: TestServer;
let s3: S3Client;
let releaseSecondHalf: () => void = () => {};
const hits: string[] = [];

beforeAll(async () => {
  origin = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/held.bin') return held(res);
    if (req.url === '/cut.bin') {
      res.writeHead(200, { 'Content-Length': BODY.length, 'Cache-Control': 'max-age=600' });
      res.write(BODY.subarray(0, HALF), () => setTimeout(() => res.socket?.destroy(), 100));
      return;
    }
    if (req.url === '/short.bin') {
      // Says more than it sends, then ends the connection cleanly.
      res.writeHead(200, { 'Content-Length': BODY.length, 'Cache-Control': 'max-age=600' });
      res.socket?.end(BODY.subarray(0, 1000));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  server = await startOriginServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'edge' }));
  await setOrigin(server, 'edge', { url: `http://127.0.0.1:${(origin.address() as { port: number }).port}/`, public: true });
}, 60_000);
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
  await new Promise((r) => origin?.close(r));
});

function held(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Length': BODY.length, 'Content-Type': 'application/octet-stream', 'Cache-Control': 'max-age=600' });
  res.write(BODY.subarray(0, HALF));
  releaseSecondHalf = () => res.end(BODY.subarray(HALF));
}

const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: 'edge' }))).Contents ?? []).map((o) => o.Key);

/** GET with Node's client, to see bytes as they arrive (and a cut as an error). */
function download(path: string, onBytes: (received: number) => void = () => {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const req = request(`${server.endpoint}${path}`, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        onBytes(received);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), error: err.message }));
    });
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error: err.message }));
    req.end();
  });
}

it('streams a miss to the first client as the origin sends it (the origin waits for the client to have half)', async () => {
  let released = false;
  const answer = await download('/edge/held.bin', (received) => {
    if (!released && received >= HALF) {
      released = true;
      releaseSecondHalf();
    }
  });
  expect(answer.status).toBe(200);
  expect(answer.headers['x-cache']).toBe('MISS');
  expect(answer.body.equals(BODY)).toBe(true);
  await eventually(async () => (await keys()).includes('held.bin'));
});

it('never stores an origin body cut mid-transfer, and the client sees the cut', async () => {
  const answer = await download('/edge/cut.bin');
  expect(answer.body.length).toBeLessThan(BODY.length);
  expect(answer.error ?? (answer.body.length < BODY.length ? 'short' : undefined)).toBeDefined();
  await new Promise((r) => setTimeout(r, 500));
  expect(await keys()).not.toContain('cut.bin');
  // The next request asks the origin again.
  await download('/edge/cut.bin');
  expect(hits.filter((h) => h === 'GET /cut.bin')).toHaveLength(2);
  expect(await keys()).not.toContain('cut.bin');
});

it('never stores a body shorter than its Content-Length', async () => {
  const answer = await download('/edge/short.bin');
  expect(answer.body.length).toBeLessThanOrEqual(1000);
  await new Promise((r) => setTimeout(r, 500));
  expect(await keys()).not.toContain('short.bin');
  expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
});
