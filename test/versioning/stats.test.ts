/** `offload stats` shows what noncurrent versions and delete markers hold, apart from the current objects. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { peerEnv, sdkClient } from '../helpers/clients.js';
import { mustRun, removeDir, tempDir } from '../helpers/peers.js';

describe('offload stats with versions', () => {
  let server: TestServer;
  let s3: S3Client;
  let home: string;
  beforeAll(async () => {
    server = await startServer();
    s3 = sdkClient(server);
    home = tempDir('versioning-stats');
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
    removeDir(home);
  });

  it('reports noncurrent bytes separately', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'costs' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'costs', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'costs', Key: 'a', Body: Buffer.alloc(1000) }));
    await s3.send(new PutObjectCommand({ Bucket: 'costs', Key: 'a', Body: Buffer.alloc(300) }));
    await s3.send(new PutObjectCommand({ Bucket: 'costs', Key: 'b', Body: Buffer.alloc(2000) }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'costs', Key: 'b' }));
    const env = { ...peerEnv(server, home), AWS_ENDPOINT_URL: server.endpoint };
    const { stdout } = await mustRun(process.execPath, [CLI, 'stats', 's3://costs'], { env, timeoutMs: 60_000 });
    expect(stdout).toMatch(/Stored now: 1 objects, 300 B/);
    expect(stdout).toMatch(/Noncurrent versions: 2, 2\.9 KiB \(and 1 delete markers\)/);
  });
});
