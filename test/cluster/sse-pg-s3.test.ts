/** The encryption-at-rest cases of sse-pg-cases.ts with the blobs in an S3 backend: a second local Offload standing in for Ceph. */
import { startServer } from '../helpers/server.js';
import { exerciseSse, s3Backend } from './sse-pg-cases.js';

exerciseSse('an S3 backend (a second local Offload)', async () => {
  const peer = await startServer();
  return s3Backend(peer, () => peer.stop());
});
