/** `--compress-on-the-fly`: text objects compressed on first request, kept, never for ranges or incompressible types. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'on-the-fly';
const js = Buffer.from('export function add(a, b) { return a + b; }\n'.repeat(500));

beforeAll(async () => {
  server = await startServer({ args: ['--compress-on-the-fly', '--workers', '1'] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'app.js', Body: js, ContentType: 'application/javascript', ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photo.jpg', Body: Buffer.alloc(5000, 1), ContentType: 'image/jpeg', ACL: 'public-read' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

function get(key: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(`${server.endpoint}/${bucket}/${key}`, { headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('compresses text on first request, keeps it, and answers HEAD and conditionals the same way', async () => {
  const first = await get('app.js', { 'Accept-Encoding': 'br' });
  expect(first.headers['content-encoding']).toBe('br');
  expect(first.headers.vary).toBe('Accept-Encoding');
  expect(brotliDecompressSync(first.body).equals(js)).toBe(true);
  expect(first.body.length).toBeLessThan(js.length / 5);
  const second = await get('app.js', { 'Accept-Encoding': 'br' });
  expect(second.body.equals(first.body)).toBe(true);
  const head = await get('app.js', { 'Accept-Encoding': 'br' }, 'HEAD');
  expect(head.headers['content-length']).toBe(String(first.body.length));
  expect(head.headers.etag).toBe(first.headers.etag);
  expect((await get('app.js', { 'Accept-Encoding': 'br', 'If-None-Match': String(first.headers.etag) })).status).toBe(304);
  const gz = await get('app.js', { 'Accept-Encoding': 'gzip' });
  expect(gunzipSync(gz.body).equals(js)).toBe(true);
});

it('sends identity bytes for ranges, for clients that accept no encoding, and for images', async () => {
  const ranged = await get('app.js', { 'Accept-Encoding': 'br', Range: 'bytes=0-5' });
  expect(ranged.status).toBe(206);
  expect(ranged.headers['content-encoding']).toBeUndefined();
  expect(ranged.body.toString()).toBe('export');
  const plain = await get('app.js', {});
  expect(plain.body.equals(js)).toBe(true);
  expect(plain.headers.vary).toBe('Accept-Encoding');
  const image = await get('photo.jpg', { 'Accept-Encoding': 'br, gzip' });
  expect(image.headers['content-encoding']).toBeUndefined();
  expect(image.body.length).toBe(5000);
});
