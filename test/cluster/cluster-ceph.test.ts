/**
 * The cluster with its blobs in Ceph: three `offload serve --meta postgres://... --blobs s3://...`
 * nodes, the bytes in a bucket of a throw-away single-node Ceph's RADOS Gateway
 * (test/helpers/ceph.ts). Reads across nodes go to Ceph with ranged GETs.
 */
import { createHash } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cephInstalled, startCeph, type CephGateway } from '../helpers/ceph.js';
import { findPostgresBin } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { blobsUrl, clientOf, createBucket } from '../conformance/blobs/s3-fixture.js';
import { failure, startTestCluster, versionBody, versionOf, type TestCluster } from './cluster-fixture.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function getBytes(client: S3Client, key: string, range?: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: 'media', Key: key, Range: range }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

const peers = missingPeer('postgresql (Debian package)', findPostgresBin()) || missingPeer('ceph (ceph-mon, ceph-osd, radosgw)', cephInstalled());

describe.skipIf(peers)('a 3-node cluster on PostgreSQL with its blobs in Ceph RGW', () => {
  let ceph: CephGateway;
  let cluster: TestCluster;
  let c: S3Client[];
  beforeAll(async () => {
    ceph = await startCeph();
    await createBucket(ceph, 'offload-blobs');
    cluster = await startTestCluster({ blobs: blobsUrl(ceph, 'offload-blobs', 'cluster/', 3600_000) });
    c = cluster.clients;
    await c[0]!.send(new CreateBucketCommand({ Bucket: 'media' }));
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await ceph?.stop();
  });

  it('objects written through one node are read whole and by range through the others; the bytes are in Ceph', async () => {
    for (const [i, size] of [300, 150_000, 4 * 1024 * 1024 + 1].entries()) {
      const body = versionBody(`ceph-${size}`, size);
      await c[i]!.send(new PutObjectCommand({ Bucket: 'media', Key: `o/${size}`, Body: body }));
      for (const client of c) {
        expect(versionOf(await getBytes(client, `o/${size}`))).toBe(`ceph-${size}`);
        expect((await getBytes(client, `o/${size}`, 'bytes=100-199')).equals(body.subarray(100, 200))).toBe(true);
      }
    }
    const inCeph = await clientOf(ceph).send(new ListObjectsV2Command({ Bucket: 'offload-blobs', Prefix: 'cluster/blobs/' }));
    // The 300-byte body is inline in PostgreSQL; the two others are blob objects.
    expect(inCeph.KeyCount).toBe(2);
  }, 60_000);

  it('a multipart upload with parts through different nodes, then overwrite and delete seen by all', async () => {
    const parts = [versionBody('p1', 5 * 1024 * 1024), versionBody('p2', 1000)];
    const { UploadId } = await c[0]!.send(new CreateMultipartUploadCommand({ Bucket: 'media', Key: 'm' }));
    const etags = [];
    for (const [i, part] of parts.entries()) etags.push((await c[(i + 1) % 3]!.send(new UploadPartCommand({ Bucket: 'media', Key: 'm', UploadId, PartNumber: i + 1, Body: part }))).ETag);
    await c[2]!.send(new CompleteMultipartUploadCommand({ Bucket: 'media', Key: 'm', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    for (const client of c) expect(md5(await getBytes(client, 'm'))).toBe(md5(Buffer.concat(parts)));
    await c[1]!.send(new PutObjectCommand({ Bucket: 'media', Key: 'm', Body: versionBody('small', 200_000) }));
    for (const client of c) expect(versionOf(await getBytes(client, 'm'))).toBe('small');
    await c[0]!.send(new DeleteObjectCommand({ Bucket: 'media', Key: 'm' }));
    for (const client of c) expect(await failure(getBytes(client, 'm'))).toEqual({ status: 404, code: 'NoSuchKey' });
  }, 60_000);

  it('of concurrent conditional PUTs through all nodes exactly one wins', async () => {
    const outcomes = await Promise.all([...c, ...c].map((client, i) => failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: 'once', Body: versionBody(`c${i}`, 100_000), IfNoneMatch: '*' })))));
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
    for (const client of c) versionOf(await getBytes(client, 'once'));
  }, 60_000);
});
