/**
 * Slow and hostile clients (security issue, item 11a): a body that stalls, a body trickled one
 * byte at a time just fast enough to beat an idle timer, and headers sent slowly (slowloris) are
 * each cut with S3's RequestTimeout and the connection closed, nothing is stored, and the server
 * goes on serving. Short limits (--body-timeout 1, --body-min-rate 1000, --header-timeout 2)
 * stand in for the defaults (60 s, 500 B/s, 20 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { signRequest, toHttp } from '../helpers/raw.js';

let server: TestServer;
let s3: S3Client;
const Bucket = 'slow';

beforeAll(async () => {
  server = await startServer({ args: ['--body-timeout', '1', '--body-min-rate', '1000', '--header-timeout', '2'] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Exchange {
  socket: Socket;
  /** Resolves with everything the server sent once it closes the connection (or after `limitMs`). */
  closed: Promise<{ text: string; closedByServer: boolean }>;
}

function open(limitMs = 15_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<{ text: string; closedByServer: boolean }>((done) => {
      const timer = setTimeout(() => {
        socket.destroy();
        done({ text: Buffer.concat(chunks).toString(), closedByServer: false });
      }, limitMs);
      socket.on('close', () => {
        clearTimeout(timer);
        done({ text: Buffer.concat(chunks).toString(), closedByServer: true });
      });
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** A signed PUT's head (Content-Length: `length`), with its body left to the test. */
async function putHead(key: string, length: number): Promise<Buffer> {
  const parts = await signRequest(server, { method: 'PUT', path: `/${Bucket}/${key}`, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(length) } });
  return toHttp({ ...parts, body: '' });
}

async function expectServing(): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'after.txt', Body: 'still here' }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'after.txt' }));
  expect(await got.Body!.transformToString()).toBe('still here');
}

async function expectNotStored(key: string): Promise<void> {
  await expect(s3.send(new HeadObjectCommand({ Bucket, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
}

describe('request bodies', () => {
  it('cuts a body that stops arriving with RequestTimeout and closes the connection', async () => {
    const x = await open();
    x.socket.write(Buffer.concat([await putHead('stalled.bin', 100), Buffer.alloc(10, 0x61)]));
    const { text, closedByServer } = await x.closed;
    expect(closedByServer).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(code(text)).toBe('RequestTimeout');
    expect(text).toContain('Your socket connection to the server was not read from or written to within the timeout period.');
    await expectNotStored('stalled.bin');
    await expectServing();
  });

  it('cuts a body trickled a byte at a time, each byte inside the idle timeout, once its average rate is too low', async () => {
    const x = await open();
    x.socket.write(await putHead('trickled.bin', 200));
    let sent = 0;
    let answered = false;
    void x.closed.then(() => { answered = true; });
    // 1 byte per 250 ms: never idle for the 1 s timeout, 4 B/s against the 1000 B/s minimum.
    while (!answered && sent < 60) {
      x.socket.write('a');
      sent++;
      await sleep(250);
    }
    const { text, closedByServer } = await x.closed;
    expect(closedByServer).toBe(true);
    expect(sent).toBeLessThan(60);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(code(text)).toBe('RequestTimeout');
    await expectNotStored('trickled.bin');
    await expectServing();
  });

  it('lets a body at an ordinary pace through, however long it takes past the timeout in all', async () => {
    const length = 3000 * 16;
    const x = await open();
    x.socket.write(await putHead('steady.bin', length));
    // 3 s in all, 16 KB/s: well over the minimum rate, never idle.
    for (let i = 0; i < 16; i++) {
      x.socket.write(Buffer.alloc(3000, 0x62));
      await sleep(190);
    }
    const { text } = await Promise.race([x.closed, sleep(3000).then(() => { x.socket.destroy(); return x.closed; })]);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'steady.bin' }));
    expect(head.ContentLength).toBe(length);
  });
});

describe('request headers (slowloris)', () => {
  it('cuts headers sent a byte at a time once the header timeout passes', async () => {
    const x = await open();
    x.socket.write(`GET /${Bucket}/after.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    let answered = false;
    void x.closed.then(() => { answered = true; });
    let sent = 0;
    for (; !answered && sent < 40; sent++) {
      x.socket.write(sent % 2 ? 'b' : 'X');
      await sleep(250);
    }
    const { text, closedByServer } = await x.closed;
    expect(closedByServer).toBe(true);
    expect(sent).toBeLessThan(40);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(code(text)).toBe('RequestTimeout');
    await expectServing();
  });

  it('cuts a connection that sends nothing once the header timeout passes', async () => {
    const x = await open();
    const { text, closedByServer } = await x.closed;
    expect(closedByServer).toBe(true);
    expect(code(text)).toBe('RequestTimeout');
  });
});
