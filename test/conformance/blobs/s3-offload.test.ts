/** The blob contract against the S3 backend, with a second local Offload as the S3 service (fast). */
import { afterAll, beforeAll } from 'vitest';
import { startServer, type TestServer } from '../../helpers/server.js';
import { runBlobConformance } from './blob-contract.js';
import { createBucket, runS3BackendExtras, s3Fixture } from './s3-fixture.js';

let peer: TestServer;
beforeAll(async () => {
  peer = await startServer();
  await createBucket(peer, 'blobs');
});
afterAll(() => peer?.stop());

runBlobConformance('S3 (a local Offload)', s3Fixture(() => peer, 'blobs'));
runS3BackendExtras('a local Offload', () => peer, 'blobs');
