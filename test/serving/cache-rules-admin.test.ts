/** Cache rules set through the admin API with `offload bucket rules`, applied by the server at once. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { DEFAULT_CACHE_CONTROL } from '../../src/media/cache-rules.js';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'rules' }));
  await s3.send(new PutObjectCommand({ Bucket: 'rules', Key: 'site.css', Body: 'a{}', ContentType: 'text/css', ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: 'rules', Key: 'index.html', Body: '<p>', ContentType: 'text/html', ACL: 'public-read' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

function offload(...args: string[]) {
  const env = { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
  return run(process.execPath, [CLI, ...args], { env });
}

const cacheControl = async (key: string) => (await fetch(`${server.endpoint}/rules/${key}`)).headers.get('cache-control');

it('adds, lists and clears rules, and the server applies them immediately', async () => {
  expect(await cacheControl('site.css')).toBe(DEFAULT_CACHE_CONTROL.text);
  await offload('bucket', 'rules', 's3://rules', '--add', 'text/css=public, max-age=31536000, immutable', '--add-key', '**.html=no-cache');
  expect(await cacheControl('site.css')).toBe('public, max-age=31536000, immutable');
  expect(await cacheControl('index.html')).toBe('no-cache');
  const listed = await offload('bucket', 'rules', 's3://rules', '--list');
  expect(listed.stdout).toContain('1. type text/css -> public, max-age=31536000, immutable');
  expect(listed.stdout).toContain('2. key **.html -> no-cache');
  const asJson = JSON.parse((await offload('bucket', 'rules', 's3://rules', '--json')).stdout) as { rules: unknown[] };
  expect(asJson.rules).toHaveLength(2);
  await offload('bucket', 'rules', 's3://rules', '--clear');
  expect(await cacheControl('site.css')).toBe(DEFAULT_CACHE_CONTROL.text);
});

it('refuses unsigned calls, unknown buckets and bad rules with a clear message', async () => {
  expect((await fetch(`${server.endpoint}/_offload/buckets/rules/cache-rules`)).status).toBe(403);
  const missing = await offload('bucket', 'rules', 's3://no-such-bucket', '--list').catch((e: { code: number; stderr: string }) => e);
  expect((missing as { code: number }).code).not.toBe(0);
  expect((missing as { stderr: string }).stderr).toMatch(/^offload: 404 .*NoSuchBucket: The specified bucket does not exist/);
  const bad = await offload('bucket', 'rules', 's3://rules', '--add', 'text/css').catch((e: { code: number; stderr: string }) => e);
  expect((bad as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  expect((bad as { stderr: string }).stderr).toContain('expected GLOB=VALUE');
});
