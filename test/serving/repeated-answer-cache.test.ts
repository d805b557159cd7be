/**
 * Repeated anonymous GETs are answered from a kept response head (s3/repeated-answer-cache.ts) on a
 * one-process server, which also trusts its caches without asking SQLite per request (it holds
 * the data folder's claim). Whatever changes the answer must show on the very next request:
 * overwrites, deletes, ACLs, policies, CORS, content negotiation; and every request is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { brotliCompressSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { fetchStats } from '../../src/cli/commands/stats.js';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;
const bucket = 'repeat';

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

type Got = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };

/** A plain GET with exactly these headers (fetch() would add its own). */
function get(key: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.endpoint}/${bucket}/${key}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const put = (Key: string, Body: string | Buffer, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ACL: 'public-read', ContentType: 'text/plain', ...extra }));

const withoutIds = (h: Got['headers']) => {
  const { 'x-amz-request-id': _a, 'x-amz-id-2': _b, date: _d, ...rest } = h;
  return rest;
};

describe('repeated public GETs', () => {
  it('answer the same headers and bytes, each with its own request id', async () => {
    await put('same.txt', 'same bytes', { CacheControl: 'max-age=60', Metadata: { who: 'test' } });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await get('same.txt'));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.toString()).toBe('same bytes');
      expect(withoutIds(a.headers)).toEqual(withoutIds(answers[0]!.headers));
    }
    expect(answers[0]!.headers).toMatchObject({ 'cache-control': 'max-age=60', 'x-amz-meta-who': 'test', 'content-length': '10', server: 'Offload' });
    expect(new Set(answers.map((a) => a.headers['x-amz-request-id'])).size).toBe(5);
  });

  it('see every overwrite and delete on the next request', async () => {
    for (let n = 0; n < 15; n++) {
      await put('changing.txt', `version ${n}`.repeat(n + 1));
      for (let i = 0; i < 3; i++) expect((await get('changing.txt')).body.toString()).toBe(`version ${n}`.repeat(n + 1));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'changing.txt' }));
    expect((await get('changing.txt')).status).toBe(403);
  });

  it('see ACL and policy changes on the next request', async () => {
    await put('acl.txt', 'guarded');
    expect((await get('acl.txt')).status).toBe(200);
    expect((await get('acl.txt')).status).toBe(200);
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl.txt', ACL: 'private' }));
    expect((await get('acl.txt')).status).toBe(403);
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl.txt', ACL: 'public-read' }));
    expect((await get('acl.txt')).status).toBe(200);
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/acl.txt` }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(deny) }));
    expect((await get('acl.txt')).status).toBe(403);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    expect((await get('acl.txt')).status).toBe(200);
  });

  it('are never repeated for a bucket whose policy looks at the client (hotlink protection)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'hotlink' }));
    await s3.send(new PutObjectCommand({ Bucket: 'hotlink', Key: 'logo.png', Body: 'png', ContentType: 'image/png' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::hotlink/*', Condition: { StringLike: { 'aws:Referer': 'https://mysite.example/*' } } }],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'hotlink', Policy: JSON.stringify(policy) }));
    const fetchLogo = (referer?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${server.endpoint}/hotlink/logo.png`, { headers: referer ? { Referer: referer } : {} }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end();
      });
    for (let i = 0; i < 3; i++) expect(await fetchLogo('https://mysite.example/page')).toBe(200);
    expect(await fetchLogo('https://elsewhere.example/')).toBe(403);
    expect(await fetchLogo()).toBe(403);
    expect(await fetchLogo('https://mysite.example/other')).toBe(200);
  });

  it('keep answers that depend on request headers apart (Origin, Accept-Encoding, Range, conditions)', async () => {
    const css = 'body { color: red; }\n'.repeat(50);
    await put('site.css', css, { ContentType: 'text/css' });
    await put('site.css.br', brotliCompressSync(css), { ContentType: 'application/octet-stream' });
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET'] }] } }));
    for (let i = 0; i < 3; i++) {
      const plain = await get('site.css');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['access-control-allow-origin']).toBeUndefined();
      expect(plain.body.toString()).toBe(css);
      const br = await get('site.css', { 'Accept-Encoding': 'br' });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers.vary).toBe('Accept-Encoding');
      const cors = await get('site.css', { Origin: 'https://app.example' });
      expect(cors.headers['access-control-allow-origin']).toBe('https://app.example');
      const range = await get('site.css', { Range: 'bytes=0-3' });
      expect(range.status).toBe(206);
      expect(range.body.toString()).toBe('body');
      const etag = plain.headers.etag as string;
      expect((await get('site.css', { 'If-None-Match': etag })).status).toBe(304);
    }
  });

  it('are all counted in the usage stats', async () => {
    await put('counted.txt', 'count me');
    for (let i = 0; i < 30; i++) expect((await get('counted.txt')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2600));
    const report = await fetchStats({ endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, bucket, query: { top: '50' } });
    const row = report.topByRequests.find((f) => f.key === 'counted.txt')!;
    expect(row).toMatchObject({ gets: 30, puts: 1, anonymous: 30, bytesOut: 30 * 8 });
  });
});

describe('one server per data folder', () => {
  it('refuses a second server on the same folder, with the first one named', async () => {
    const second = run(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', server.dataDir], { timeout: 20_000 });
    await expect(second).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`another offload server (pid ${server.process.pid})`) });
    expect((await get('same.txt')).status).toBe(200);
  });

  it('takes over the claim of a server that is gone', async () => {
    const other = await startServer();
    await other.kill();
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(join(other.dataDir, 'server.pid'), `${gone.pid}\n`);
    const again = await startServer({ dataDir: other.dataDir });
    try {
      expect((await fetch(`${again.endpoint}/_offload/health`)).status).toBe(200);
    } finally {
      await again.stop();
    }
  });
});
