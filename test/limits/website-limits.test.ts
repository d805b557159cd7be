/**
 * The website endpoint under the anonymous limits: a visitor address over --anonymous-rps, and a
 * bucket over its anonymousRps, get 503 SlowDown with Retry-After (an HTML page, as the website
 * endpoint answers errors); another address, and another bucket's site, are unaffected.
 */
import { request } from 'node:http';
import { CreateBucketCommand, PutBucketPolicyCommand, PutBucketWebsiteCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let s3: S3Client;

type WebAnswer = { status: number; retryAfter?: string; type?: string; body: string };

/** A GET on the website port as a visitor at `address` (named by the trusted proxy's X-Forwarded-For). */
function visit(site: string, address: string): Promise<WebAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.websitePort, path: '/', headers: { Host: `${site}.localhost`, 'X-Forwarded-For': address } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const publicPolicy = (bucket: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });

beforeAll(async () => {
  server = await startServer({ args: ['--website-port', '0', '--anonymous-rps', '5', '--trusted-proxy', '127.0.0.1/32'] });
  s3 = sdkClient(server);
  for (const site of ['site-a', 'site-b']) {
    await s3.send(new CreateBucketCommand({ Bucket: site }));
    await s3.send(new PutObjectCommand({ Bucket: site, Key: 'index.html', Body: `<h1>${site}</h1>`, ContentType: 'text/html' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: site, Policy: publicPolicy(site) }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: site, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  }
  const limits = await rawRequest(server, toHttp(await signRequest(server, { method: 'PUT', path: '/_offload/buckets/site-a/limits', body: '{"anonymousRps": 2}', headers: { 'content-type': 'application/json' } })));
  expect(limits.status).toBe(200);
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

function expectSlowDown(answers: WebAnswer[]): void {
  const refused = answers.filter((a) => a.status === 503);
  expect(refused.length).toBeGreaterThan(0);
  for (const a of refused) {
    expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(a.type).toBe('text/html; charset=utf-8');
    expect(a.body).toContain('<li>Code: SlowDown</li>');
  }
  expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
}

describe('website endpoint rate limits', () => {
  it('a visitor over --anonymous-rps gets 503 SlowDown with Retry-After; another visitor is unaffected', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => visit('site-b', '203.0.113.7')));
    expectSlowDown(answers);
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(6);
    const other = await visit('site-b', '203.0.113.8');
    expect(other.status).toBe(200);
    expect(other.body).toBe('<h1>site-b</h1>');
  });

  it("a site over its bucket's anonymousRps gets 503 SlowDown with Retry-After; another bucket's site is unaffected", async () => {
    // One address per request: only the bucket's limit can refuse them.
    const a = await Promise.all(Array.from({ length: 8 }, (_, i) => visit('site-a', `198.51.100.${i + 1}`)));
    expectSlowDown(a);
    expect(a.filter((r) => r.status === 200).length).toBeLessThanOrEqual(3);
    const b = await Promise.all(Array.from({ length: 8 }, (_, i) => visit('site-b', `198.51.100.${i + 101}`)));
    expect(b.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});
