/** The website endpoint of an origin bucket: index documents and 404s come through the origin too. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CreateBucketCommand, PutBucketWebsiteCommand } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import type { TestServer } from '../helpers/server.js';
import { websiteGet } from '../e2e/_trees.js';
import { setOrigin, startOriginServer } from './_origin.js';

let origin: Server;
let server: TestServer;
const asked: string[] = [];

beforeAll(async () => {
  origin = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    if (req.url === '/docs/index.html') return res.writeHead(200, { 'Content-Type': 'text/html', 'Cache-Control': 'max-age=600' }).end('<h1>docs</h1>');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  server = await startOriginServer(['--website-port', '0']);
  const s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'site' }));
  await s3.send(new PutBucketWebsiteCommand({ Bucket: 'site', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  s3.destroy();
  await setOrigin(server, 'site', { url: `http://127.0.0.1:${(origin.address() as { port: number }).port}/`, public: true });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => origin?.close(r));
});

it('fills an index document on a miss and serves it as a HIT afterwards', async () => {
  const first = await websiteGet(server.websitePort!, 'site.localhost', '/docs/');
  expect(first.status).toBe(200);
  expect(first.headers['x-cache']).toBe('MISS');
  expect(first.body.toString()).toBe('<h1>docs</h1>');
  await new Promise((r) => setTimeout(r, 300));
  const second = await websiteGet(server.websitePort!, 'site.localhost', '/docs/');
  expect(second.status).toBe(200);
  expect(second.headers['x-cache']).toBe('HIT');
  expect(asked.filter((a) => a === 'GET /docs/index.html')).toHaveLength(1);
});

it("answers the origin's 404 with the website's HTML error page", async () => {
  const missing = await websiteGet(server.websitePort!, 'site.localhost', '/nope.html');
  expect(missing.status).toBe(404);
  expect(missing.body.toString()).toContain('NoSuchKey');
  expect(missing.headers['x-cache']).toBe('MISS');
});
