/**
 * `offload migrate`: a single server's data folder copied into another store (here a data folder
 * whose blobs are in a shared folder; with PostgreSQL in cluster.test.ts) and back, without going
 * through S3, verified; then served by the target with the same bodies, ETags, headers, tags,
 * bucket settings and access keys.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetBucketCorsCommand, GetObjectCommand, GetObjectTaggingCommand, ListBucketsCommand, PutBucketCorsCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { openKeyStore } from '../../src/storage/keys.js';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

export interface Fixture {
  bodies: Record<string, Buffer>;
  etags: Record<string, string>;
}

/** Objects of every kind, a CORS document and tags, through a real server. */
export async function fill(client: S3Client): Promise<Fixture> {
  await client.send(new CreateBucketCommand({ Bucket: 'site' }));
  await client.send(new PutBucketCorsCommand({ Bucket: 'site', CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://example.com'] }] } }));
  const bodies: Record<string, Buffer> = { 'tiny.css': randomBytes(700), 'photo.jpg': randomBytes(300_000), 'big/video.mp4': randomBytes(2 * 1024 * 1024), 'empty': Buffer.alloc(0), 'ünï/cödé.txt': randomBytes(10) };
  const etags: Record<string, string> = {};
  for (const [key, body] of Object.entries(bodies)) {
    const out = await client.send(new PutObjectCommand({ Bucket: 'site', Key: key, Body: body, ContentType: 'application/x-test', CacheControl: 'max-age=60', Metadata: { origin: key.length.toString() }, Tagging: 'kind=test' }));
    etags[key] = out.ETag!;
  }
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(4321)];
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'site', Key: 'multi.bin', ContentType: 'application/x-multi' }));
  const partTags = [];
  for (const [i, part] of parts.entries()) partTags.push((await client.send(new UploadPartCommand({ Bucket: 'site', Key: 'multi.bin', UploadId, PartNumber: i + 1, Body: part }))).ETag);
  const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: 'site', Key: 'multi.bin', UploadId, MultipartUpload: { Parts: partTags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  bodies['multi.bin'] = Buffer.concat(parts);
  etags['multi.bin'] = done.ETag!;
  return { bodies, etags };
}

/** The target serves exactly what the source held. */
export async function verify(client: S3Client, fixture: Fixture): Promise<void> {
  for (const [key, body] of Object.entries(fixture.bodies)) {
    const out = await client.send(new GetObjectCommand({ Bucket: 'site', Key: key }));
    expect(out.ETag).toBe(fixture.etags[key]);
    expect(md5(Buffer.from(await out.Body!.transformToByteArray()))).toBe(md5(body));
    if (key === 'multi.bin') {
      expect(out.ContentType).toBe('application/x-multi');
      continue;
    }
    expect(out.ContentType).toBe('application/x-test');
    expect(out.CacheControl).toBe('max-age=60');
    expect(out.Metadata).toEqual({ origin: key.length.toString() });
    expect((await client.send(new GetObjectTaggingCommand({ Bucket: 'site', Key: key }))).TagSet).toEqual([{ Key: 'kind', Value: 'test' }]);
  }
  const cors = await client.send(new GetBucketCorsCommand({ Bucket: 'site' }));
  expect(cors.CORSRules?.[0]?.AllowedOrigins).toEqual(['https://example.com']);
}

export function migrate(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, 'migrate', ...args], { timeout: 120_000 });
}

describe('offload migrate between data folders', () => {
  const temp = mkdtempSync(join(tmpdir(), 'offload-migrate-'));
  const [a, b, c, shared] = ['a', 'b', 'c', 'shared'].map((n) => join(temp, n)) as [string, string, string, string];
  let servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop({ keepData: true })));
    rmSync(temp, { recursive: true, force: true });
  });
  let fixture: Fixture;
  let key: { accessKeyId: string; secretAccessKey: string };

  it('copies a data folder into one whose blobs are in a shared folder, verified, and the copy serves the same', async () => {
    const source = await startServer({ dataDir: a });
    servers.push(source);
    fixture = await fill(sdkClient(source));
    await source.stop({ keepData: true });
    const keys = openKeyStore(a);
    key = keys.createKey({ name: 'deploy' });
    keys.close();
    const out = await migrate(['--from', a, '--to', b, '--blobs', shared]);
    expect(out.stdout).toMatch(/migrated 1 buckets, 1 bucket settings, 6 objects \(\d+ bytes\), 1 access keys .*verified/);
    const target = await startServer({ dataDir: b, args: ['--blobs', shared] });
    servers.push(target);
    await verify(sdkClient(target), fixture);
    const asKey = new S3Client({ endpoint: target.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: key });
    expect((await asKey.send(new ListBucketsCommand({}))).Buckets).toEqual([]);
    await target.stop({ keepData: true });
    servers = [];
  }, 120_000);

  it('and back: from a store with shared blobs into a plain data folder', async () => {
    await migrate(['--from', b, '--from-blobs', shared, '--to', c]);
    const back = await startServer({ dataDir: c });
    servers.push(back);
    await verify(sdkClient(back), fixture);
    await back.stop({ keepData: true });
    servers = [];
  }, 120_000);

  it('refuses a target that already holds buckets, and a source a server is using', async () => {
    await expect(migrate(['--from', a, '--to', c])).rejects.toMatchObject({ stderr: expect.stringMatching(/already has buckets \(site\)/) });
    const busy = await startServer({ dataDir: a });
    servers.push(busy);
    await expect(migrate(['--from', a, '--to', join(temp, 'd')])).rejects.toMatchObject({ stderr: expect.stringMatching(/another offload server/) });
    expect(busy.process.exitCode).toBeNull();
  }, 60_000);
});

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('offload migrate to PostgreSQL metadata and back', () => {
  const temp = mkdtempSync(join(tmpdir(), 'offload-migrate-pg-'));
  let pg: TestPostgres | undefined;
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop({ keepData: true })));
    await pg?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('copies a data folder into PostgreSQL + shared blobs, and from there into a new data folder, verified both ways', async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase('migrated');
    const source = await startServer({ dataDir: join(temp, 'a') });
    servers.push(source);
    const fixture = await fill(sdkClient(source));
    await source.stop({ keepData: true });
    const keys = openKeyStore(join(temp, 'a'));
    const key = keys.createKey({ name: 'deploy' });
    keys.close();
    const there = await migrate(['--from', join(temp, 'a'), '--to', url, '--blobs', join(temp, 'shared')]);
    expect(there.stdout).toMatch(/migrated 1 buckets, 1 bucket settings, 6 objects .*1 access keys .*verified/);
    expect(there.stdout).toMatch(/OFFLOAD_ROOT_ACCESS_KEY/);
    await expect(migrate(['--from', join(temp, 'a'), '--to', url, '--blobs', join(temp, 'shared')])).rejects.toMatchObject({ stderr: expect.stringMatching(/already has buckets/) });
    const back = await migrate(['--from', url, '--from-blobs', join(temp, 'shared'), '--to', join(temp, 'b')]);
    expect(back.stdout).toMatch(/6 objects .*1 access keys .*verified/);
    const copy = await startServer({ dataDir: join(temp, 'b') });
    servers.push(copy);
    await verify(sdkClient(copy), fixture);
    const asKey = new S3Client({ endpoint: copy.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: key });
    expect((await asKey.send(new ListBucketsCommand({}))).Buckets).toEqual([]);
  }, 180_000);
});
