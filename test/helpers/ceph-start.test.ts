/** The Ceph helper itself: the gateway answers a signed request with the known keys. */
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cephInstalled, startCeph, type CephGateway } from './ceph.js';
import { missingPeer } from './require-peer.js';

describe.skipIf(missingPeer('ceph (ceph-mon, ceph-osd, radosgw)', cephInstalled()))('test/helpers/ceph.ts', () => {
  let ceph: CephGateway;
  beforeAll(async () => {
    ceph = await startCeph();
  }, 120_000);
  afterAll(() => ceph?.stop());

  it('starts a gateway that serves S3 with the known keys', async () => {
    const client = new S3Client({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: true, credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await client.send(new CreateBucketCommand({ Bucket: 'probe' }));
    const out = await client.send(new ListBucketsCommand({}));
    expect(out.Buckets?.map((b) => b.Name)).toEqual(['probe']);
  });
});
