/**
 * The blob contract against an S3 endpoint (a second local Offload, or Ceph's gateway): each
 * test gets a fresh prefix in one bucket, through the same `--blobs s3://...` URL parsing the
 * server uses; plus what only the S3 backend has (multipart bodies, open uploads, the grace).
 */
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { openBlobStorage } from '../../../src/storage/blob-backends/open.js';
import type { BlobFixture } from './blob-contract.js';

export interface S3Endpoint {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export function clientOf(peer: S3Endpoint): S3Client {
  return new S3Client({ endpoint: peer.endpoint, region: peer.region, forcePathStyle: true, credentials: { accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

export function blobsUrl(peer: S3Endpoint, bucket: string, prefix: string, graceMs = 0): string {
  const q = new URLSearchParams({ endpoint: peer.endpoint, region: peer.region, forcePathStyle: 'true', accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey, orphanGraceMs: String(graceMs) });
  return `s3://${bucket}/${prefix}?${q}`;
}

export async function createBucket(peer: S3Endpoint, bucket: string): Promise<void> {
  await clientOf(peer).send(new CreateBucketCommand({ Bucket: bucket }));
}

/** A fixture factory for runBlobConformance: a fresh prefix per test. */
export function s3Fixture(peer: () => S3Endpoint, bucket: string): () => Promise<BlobFixture> {
  let n = 0;
  return async () => {
    const prefix = `t${Date.now()}-${n++}/`;
    const open = () => openBlobStorage(blobsUrl(peer(), bucket, prefix));
    return { blobs: open(), reopen: async () => open(), placesOnWrite: true, cleanup: async () => undefined };
  };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

export function runS3BackendExtras(name: string, peer: () => S3Endpoint, bucket: string): void {
  describe(`S3 blob backend: ${name}`, () => {
    const BIG = 17 * 1024 * 1024 + 5;

    it('a body larger than a part goes up as a multipart upload and reads back whole', async () => {
      const blobs = openBlobStorage(blobsUrl(peer(), bucket, 'big/'));
      const bytes = randomBytes(BIG);
      const chunks = Array.from({ length: Math.ceil(BIG / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
      const blob = await blobs.write(Readable.from(chunks));
      expect(blob.md5.equals(md5(bytes))).toBe(true);
      expect((await blobs.readRange(blob.id, { start: BIG - 100, end: BIG - 1 })).equals(bytes.subarray(BIG - 100))).toBe(true);
      const streamed: Buffer[] = [];
      for await (const c of blobs.readStream(blob.id, { start: 0, end: BIG - 1 }) as AsyncIterable<Buffer>) streamed.push(c);
      expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
      await blobs.remove(blob.id);
    }, 60_000);

    it('a multipart body that fails half-way leaves no open upload and no object', async () => {
      const blobs = openBlobStorage(blobsUrl(peer(), bucket, 'fail/'));
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent >= 20) this.destroy(new Error('client went away'));
          else {
            sent++;
            this.push(randomBytes(1024 * 1024));
          }
        },
      });
      await expect(blobs.write(body)).rejects.toThrow('client went away');
      const open = await clientOf(peer()).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'fail/' }));
      expect(open.Uploads ?? []).toEqual([]);
      expect(await blobs.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 0 });
    }, 60_000);

    it('reclaimOrphans spares blobs younger than the grace period (another node may be about to commit them)', async () => {
      const young = openBlobStorage(blobsUrl(peer(), bucket, 'grace/', 3600_000));
      const blob = await young.write(Readable.from([randomBytes(1000)]));
      expect(await young.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 0 });
      expect((await young.readRange(blob.id, { start: 0, end: 9 })).length).toBe(10);
      const eager = openBlobStorage(blobsUrl(peer(), bucket, 'grace/', 0));
      expect(await eager.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 1 });
    });
  });
}
