/** `Expect: 100-continue`: a refused upload is refused before the body is sent; an accepted one gets 100 first. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { signRequest, toHttp } from '../helpers/raw.js';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'continue' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

/** Sends only the head, waits for the server's first answer, and sends the body only after a 100. */
function exchange(head: Buffer, body: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const seen: string[] = [];
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      if (status && text.includes('\r\n\r\n')) {
        seen.push(status);
        if (status === '100') {
          text = '';
          socket.write(body);
        } else if (/content-length: (\d+)/i.test(text) && text.length - text.indexOf('\r\n\r\n') - 4 >= Number(/content-length: (\d+)/i.exec(text)![1])) {
          socket.destroy();
          resolve(seen);
        }
      }
    });
    socket.on('error', reject);
    socket.write(head);
  });
}

it('refuses an anonymous upload without asking for its body', async () => {
  const head = Buffer.from(`PUT /continue/anon.txt HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
  expect(await exchange(head, Buffer.from('hello'))).toEqual(['403']);
});

it('asks for the body of a signed upload, then stores it', async () => {
  const parts = await signRequest(server, { method: 'PUT', path: '/continue/signed.txt', body: 'hello', headers: { expect: '100-continue' } });
  const http = toHttp(parts);
  const split = http.indexOf('\r\n\r\n') + 4;
  expect(await exchange(http.subarray(0, split), http.subarray(split))).toEqual(['100', '200']);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'continue', Key: 'signed.txt' }));
  expect(await got.Body!.transformToString()).toBe('hello');
});
