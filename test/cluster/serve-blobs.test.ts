/**
 * `offload serve --blobs URL`: the embedded metadata engine with its blob bytes in an S3 bucket
 * (a second local Offload stands in for Ceph/AWS here) or in a shared folder. Every kind of
 * object (inline, cached, streamed, multipart, copied) reads back whole and by range, and a
 * delete reclaims the blob object in the backend.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { blobsUrl } from '../conformance/blobs/s3-fixture.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function get(client: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function blobObjects(peer: S3Client): Promise<string[]> {
  const out = await peer.send(new ListObjectsV2Command({ Bucket: 'backend', Prefix: 'node/blobs/' }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

function exerciseObjects(node: () => TestServer, backendBlobs: () => Promise<number>): void {
  it('inline, cached, streamed, multipart and copied objects read back whole and by range', async () => {
    const client = sdkClient(node());
    await client.send(new CreateBucketCommand({ Bucket: 'media' }));
    const bodies = { tiny: randomBytes(1000), medium: randomBytes(300_000), large: randomBytes(5 * 1024 * 1024 + 3) };
    for (const [key, body] of Object.entries(bodies)) await client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: body }));
    for (const [key, body] of Object.entries(bodies)) {
      expect(md5(await get(client, 'media', key))).toBe(md5(body));
      expect((await get(client, 'media', key, 'bytes=100-899')).equals(body.subarray(100, 900))).toBe(true);
    }
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'media', Key: 'multi' }));
    const etags = [];
    for (const [i, part] of parts.entries()) etags.push((await client.send(new UploadPartCommand({ Bucket: 'media', Key: 'multi', UploadId, PartNumber: i + 1, Body: part }))).ETag);
    await client.send(new CompleteMultipartUploadCommand({ Bucket: 'media', Key: 'multi', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const whole = Buffer.concat(parts);
    expect(md5(await get(client, 'media', 'multi'))).toBe(md5(whole));
    const across = 5 * 1024 * 1024 - 10;
    expect((await get(client, 'media', 'multi', `bytes=${across}-${across + 99}`)).equals(whole.subarray(across, across + 100))).toBe(true);
    await client.send(new CopyObjectCommand({ Bucket: 'media', Key: 'copy', CopySource: 'media/large' }));
    expect(md5(await get(client, 'media', 'copy'))).toBe(md5(bodies.large));
    // medium, large (shared with copy), two parts; the tiny one is inline in the metadata.
    expect(await backendBlobs()).toBe(4);
  }, 60_000);

  it('deletes reclaim the blobs in the backend once nothing references them', async () => {
    const client = sdkClient(node());
    await client.send(new DeleteObjectCommand({ Bucket: 'media', Key: 'large' }));
    expect(md5(await get(client, 'media', 'copy')).length).toBe(32);
    expect(await backendBlobs()).toBe(4);
    for (const key of ['copy', 'medium', 'multi', 'tiny']) await client.send(new DeleteObjectCommand({ Bucket: 'media', Key: key }));
    // The unlink follows the commit without the request waiting for it.
    for (let i = 0; i < 50 && (await backendBlobs()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await backendBlobs()).toBe(0);
    expect(node().process.exitCode).toBeNull();
  });
}

describe('serve --blobs s3://... (another Offload as the S3 service)', () => {
  let backend: TestServer;
  let node: TestServer;
  beforeAll(async () => {
    backend = await startServer();
    await sdkClient(backend).send(new CreateBucketCommand({ Bucket: 'backend' }));
    node = await startServer({ args: ['--blobs', blobsUrl(backend, 'backend', 'node/', 3600_000)] });
  });
  afterAll(async () => {
    await node?.stop();
    await backend?.stop();
  });

  exerciseObjects(() => node, async () => (await blobObjects(sdkClient(backend))).length);

  it('keeps no blob files in the data folder', () => {
    expect(existsSync(join(node.dataDir, 'blobs'))).toBe(false);
  });
});

describe('serve --blobs /shared/folder (OFFLOAD_BLOBS)', () => {
  let node: TestServer;
  const shared = mkdtempSync(join(tmpdir(), 'offload-shared-'));
  const files = () => readdirSync(join(shared, 'blobs'), { recursive: true }).filter((f) => /[0-9a-f]{32}$/.test(String(f))).length;
  beforeAll(async () => {
    node = await startServer({ env: { OFFLOAD_BLOBS: shared } });
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(shared, { recursive: true, force: true });
  });

  exerciseObjects(() => node, async () => files());
});
