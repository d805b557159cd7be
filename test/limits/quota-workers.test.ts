/**
 * Bucket quotas hold across the processes of one server: `offload serve --workers 2` on one data
 * folder, every request on a connection of its own (so the two workers share the writers). The
 * quota is checked inside the SQLite commit, where the processes take turns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { copiesAndMultipart, overwritesAndDeletes, raceTheLastBytes, useIsReported, versionsCount, type QuotaDeployment } from './quota-scenarios.js';

describe('bucket quotas with --workers 2 on one data folder', () => {
  let server: TestServer;
  const clients: S3Client[] = [];
  let d: QuotaDeployment;

  beforeAll(async () => {
    server = await startServer({ args: ['--workers', '2'] });
    // A client per call: its own connection, which the primary hands to the workers in turn.
    d = { servers: [server], client: () => clients[clients.push(sdkClient(server)) - 1]! };
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('16 parallel writers racing the last bytes (and the last objects): exactly the writes that fit succeed', async () => {
    await raceTheLastBytes(d, 'race');
    await useIsReported(d, 'race', { bytes: 10_002, objects: 12, maxBytes: 100_000 });
  });

  it('an overwrite counts its size difference; a delete frees room for the next write at once', async () => {
    await overwritesAndDeletes(d, 'churn');
  });

  it('CopyObject and CompleteMultipartUpload count; parts in progress do not', async () => {
    await copiesAndMultipart(d, 'copies');
  });

  it('in a versioned bucket every version counts, and deleting versions frees room', async () => {
    await versionsCount(d, 'versioned');
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});
