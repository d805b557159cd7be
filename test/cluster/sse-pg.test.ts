/**
 * Encryption at rest on PostgreSQL metadata (cases in sse-pg-cases.ts): two `offload serve --meta
 * ... --master-key-file` nodes, written through A and read through B, with the blobs in a shared
 * folder and in an S3 backend (a second local Offload standing in for Ceph: sse-pg-ceph.test.ts
 * runs the same cases on Ceph's gateway). Nodes with another master key: sse-pg-rotate.test.ts.
 */
import { startServer } from '../helpers/server.js';
import { exerciseSse, folderBackend, s3Backend } from './sse-pg-cases.js';

exerciseSse('a shared folder', folderBackend);
exerciseSse('an S3 backend (a second local Offload)', async () => {
  const peer = await startServer();
  return s3Backend(peer, () => peer.stop());
});
