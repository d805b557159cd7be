/**
 * The default connection cap comes from the open-files limit (security issue, item 11b): under a
 * tight limit (300, set with prlimit), the server holds what its descriptor budget allows, answers
 * the rest 503 SlowDown instead of running out of descriptors, and at the cap still opens its
 * database and blob files: uploads and downloads of file-backed objects and health checks work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { defaultMaxConnections } from '../../src/server/fd-budget.js';

const LIMIT = 300;
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestServer;

beforeAll(async () => {
  if (!hasPrlimit) return;
  server = await startServer({ wrapper: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--'] });
});
afterAll(async () => {
  await server?.stop();
});

function idleSocket(): Promise<{ socket: Socket; received: () => string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => { text += c.toString(); });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => text }));
    socket.once('error', reject);
  });
}

describe.skipIf(missingPeer('prlimit (util-linux)', hasPrlimit))(`open-files limit ${LIMIT}`, () => {
  it('caps connections from the limit, answers the rest 503 SlowDown, and still reads and writes blob files at the cap', async () => {
    const cap = defaultMaxConnections(LIMIT);
    const s3 = sdkClient(server);
    const big = randomBytes(2 * 1024 * 1024);
    await s3.send(new CreateBucketCommand({ Bucket: 'fdlimit' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fdlimit', Key: 'big.bin', Body: big, ACL: 'public-read' }));
    s3.destroy();
    await sleep(200);

    const sockets = [];
    for (let i = 0; i < cap + 60; i++) sockets.push(await idleSocket());
    await sleep(2500);
    const refused = sockets.filter((s) => s.received() !== '');
    const kept = sockets.filter((s) => s.received() === '');
    expect(kept).toHaveLength(cap);
    expect(refused).toHaveLength(60);
    for (const s of refused) expect(code(s.received())).toBe('SlowDown');

    const health = await rawRequest(server, 'GET /_offload/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(health.status).toBe(200);

    // Free a few slots: a file-backed upload and download go through with the cap all but full.
    for (const s of kept.slice(0, 3)) s.socket.destroy();
    await sleep(200);
    const body = randomBytes(512 * 1024);
    const put = await rawRequest(server, toHttp(await signRequest(server, { method: 'PUT', path: '/fdlimit/new.bin', body })));
    expect(put.status).toBe(200);
    const get = await rawRequest(server, 'GET /fdlimit/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(get.status).toBe(200);
    expect(Number(get.headers['content-length'])).toBe(big.length);

    for (const s of sockets) s.socket.destroy();
    expect(server.output()).not.toMatch(/EMFILE|ENFILE/);
    expect(server.process.exitCode).toBeNull();
  });
});
