/** The blob contract against the S3 backend on Ceph's RADOS Gateway (test/helpers/ceph.ts). */
import { afterAll, beforeAll, describe } from 'vitest';
import { cephInstalled, startCeph, type CephGateway } from '../../helpers/ceph.js';
import { missingPeer } from '../../helpers/require-peer.js';
import { runBlobConformance } from './blob-contract.js';
import { createBucket, runS3BackendExtras, s3Fixture } from './s3-fixture.js';

describe.skipIf(missingPeer('ceph (ceph-mon, ceph-osd, radosgw)', cephInstalled()))('on Ceph RGW', () => {
  let ceph: CephGateway;
  beforeAll(async () => {
    ceph = await startCeph();
    await createBucket(ceph, 'blobs');
  }, 120_000);
  afterAll(() => ceph?.stop());

  runBlobConformance('S3 (Ceph RGW)', s3Fixture(() => ceph, 'blobs'));
  runS3BackendExtras('Ceph RGW', () => ceph, 'blobs');
});
