/**
 * An origin bucket in front of an upstream S3 (a second Offload started here) whose objects are
 * private: read through SigV4 with the upstream's own key, whose secret the admin API never shows.
 * Also: eviction under a capacity limit keeps user uploads, and `offload bucket origin`.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { admin, errorCode, eventually, setOrigin, startOriginServer } from './_origin.js';

const run = promisify(execFile);
let upstream: TestServer;
let edge: TestServer;
let up: S3Client;
let s3: S3Client;
const PHOTO = randomBytes(300_000);

beforeAll(async () => {
  [upstream, edge] = await Promise.all([startServer(), startOriginServer()]);
  up = sdkClient(upstream);
  s3 = sdkClient(edge);
  await up.send(new CreateBucketCommand({ Bucket: 'assets' }));
  await up.send(new PutObjectCommand({ Bucket: 'assets', Key: 'photos/p 1.jpg', Body: PHOTO, ContentType: 'image/jpeg', CacheControl: 'max-age=600' }));
  for (let i = 0; i < 6; i++) await up.send(new PutObjectCommand({ Bucket: 'assets', Key: `blob/${i}.bin`, Body: randomBytes(100_000) }));
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'small' }));
}, 60_000);
afterAll(async () => {
  up?.destroy();
  s3?.destroy();
  await Promise.all([upstream?.stop(), edge?.stop()]);
});

const upstreamOrigin = (secret = upstream.secretAccessKey) => ({ s3: { endpoint: upstream.endpoint, bucket: 'assets', accessKeyId: upstream.accessKeyId, secretAccessKey: secret } });

describe('upstream S3 with private objects', () => {
  it('is private upstream: an anonymous read there is refused', async () => {
    expect((await fetch(`${upstream.endpoint}/assets/photos/p%201.jpg`)).status).toBe(403);
  });

  it('fills through SigV4 with the configured key, and serves HITs', async () => {
    await setOrigin(edge, 'media', { ...upstreamOrigin(), public: true });
    const first = await fetch(`${edge.endpoint}/media/photos/p%201.jpg`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await first.arrayBuffer()).equals(PHOTO)).toBe(true);
    await eventually(async () => ((await s3.send(new ListObjectsV2Command({ Bucket: 'media' }))).KeyCount ?? 0) === 1);
    const second = await fetch(`${edge.endpoint}/media/photos/p%201.jpg`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await second.arrayBuffer()).equals(PHOTO)).toBe(true);
  });

  it('never shows the upstream secret back, and keeps it when the masked document is sent again', async () => {
    const shown = await (await admin(edge, 'GET', '/_offload/buckets/media/origin')).text();
    expect(shown).not.toContain(upstream.secretAccessKey);
    const origin = (JSON.parse(shown) as { origin: { s3: { secretAccessKey: string } } }).origin;
    expect(origin.s3.secretAccessKey).toBe('********');
    const again = await admin(edge, 'PUT', '/_offload/buckets/media/origin', origin);
    expect(again.status).toBe(200);
    expect(await again.text()).not.toContain(upstream.secretAccessKey);
    await admin(edge, 'POST', '/_offload/buckets/media/purge', { prefix: '' });
    expect((await fetch(`${edge.endpoint}/media/photos/p%201.jpg`)).status).toBe(200);
  });

  it('answers 502 when the upstream refuses the key (a wrong secret), caching nothing', async () => {
    await setOrigin(edge, 'media', { ...upstreamOrigin('wrong-secret-0123456789'), public: true });
    const res = await fetch(`${edge.endpoint}/media/blob/0.bin`);
    expect(res.status).toBe(502);
    expect(errorCode(await res.text())).toBe('XOffloadOriginError');
  });

  it('keeps a non-public origin bucket private: anonymous misses are refused before the origin is asked', async () => {
    await setOrigin(edge, 'media', upstreamOrigin());
    const res = await fetch(`${edge.endpoint}/media/blob/1.bin`);
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe('AccessDenied');
  });
});

describe('capacity', () => {
  it('evicts the least recently used filled objects, never user uploads', async () => {
    await setOrigin(edge, 'small', { ...upstreamOrigin(), public: true, capacity: 350_000 });
    await s3.send(new PutObjectCommand({ Bucket: 'small', Key: 'mine.bin', Body: randomBytes(150_000) }));
    for (const i of [0, 1, 2, 3]) {
      expect((await fetch(`${edge.endpoint}/small/blob/${i}.bin`).then(async (r) => ({ s: r.status, b: await r.arrayBuffer() }))).s).toBe(200);
      await eventually(async () => ((await s3.send(new ListObjectsV2Command({ Bucket: 'small', Prefix: `blob/${i}` }))).KeyCount ?? 0) === 1);
      await new Promise((r) => setTimeout(r, 300));
    }
    await eventually(async () => {
      const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'small' }))).Contents ?? [];
      return listed.reduce((n, o) => n + (o.Size ?? 0), 0) <= 350_000;
    });
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'small' }))).Contents ?? []).map((o) => o.Key);
    expect(keys).toContain('mine.bin');
    expect(keys).toContain('blob/3.bin');
    expect(keys).not.toContain('blob/0.bin');
  });
});

describe('offload bucket origin', () => {
  const env = () => ({ ...process.env, AWS_ENDPOINT_URL: edge.endpoint, AWS_ACCESS_KEY_ID: edge.accessKeyId, AWS_SECRET_ACCESS_KEY: edge.secretAccessKey });

  it('sets, shows (secret masked) and removes an origin', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'cli' }));
    const set = await run(process.execPath, [CLI, 'bucket', 'origin', 's3://cli', '--s3', 's3://assets', '--s3-endpoint', upstream.endpoint, '--s3-access-key', upstream.accessKeyId, '--s3-secret-key', upstream.secretAccessKey, '--public', '--capacity', '10MiB', '--prefix-map', 'p/=photos/'], { env: env() });
    expect(set.stdout).toContain('cli: pull-through from s3://assets');
    expect(set.stdout).not.toContain(upstream.secretAccessKey);
    const shown = await run(process.execPath, [CLI, 'bucket', 'origin', 's3://cli', '--json'], { env: env() });
    expect(shown.stdout).toContain('"secretAccessKey": "********"');
    expect(shown.stdout).toContain('"capacity": 10485760');
    const mapped = await fetch(`${edge.endpoint}/cli/p/p%201.jpg`);
    expect(mapped.status).toBe(200);
    expect(Buffer.from(await mapped.arrayBuffer()).equals(PHOTO)).toBe(true);
    await run(process.execPath, [CLI, 'bucket', 'origin', 's3://cli', '--remove'], { env: env() });
    expect((await fetch(`${edge.endpoint}/cli/p/other.jpg`)).status).toBe(403);
  });
});
