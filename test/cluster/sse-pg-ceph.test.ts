/** The encryption-at-rest cases of sse-pg-cases.ts with the blobs in a throw-away Ceph's RADOS Gateway. */
import { cephInstalled, startCeph } from '../helpers/ceph.js';
import { findPostgresBin } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { describe } from 'vitest';
import { exerciseSse, s3Backend } from './sse-pg-cases.js';

const peers = missingPeer('postgresql (Debian package)', findPostgresBin()) || missingPeer('ceph (ceph-mon, ceph-osd, radosgw)', cephInstalled());

describe.skipIf(peers)('with Ceph', () => {
  exerciseSse("Ceph's RADOS Gateway", async () => {
    const ceph = await startCeph();
    return s3Backend(ceph, () => ceph.stop());
  }, 180_000);
});
