/**
 * Bucket quotas hold across nodes: two real `offload serve --meta postgres://...` processes on
 * one throw-away PostgreSQL. The quota is checked by a trigger in each write's transaction, and
 * racing writers on both nodes take turns at the bucket's quota row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { copiesAndMultipart, overwritesAndDeletes, raceTheLastBytes, useIsReported, type QuotaDeployment } from '../limits/quota-scenarios.js';

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('bucket quotas across two --meta nodes on one PostgreSQL', () => {
  let pg: TestPostgres;
  let dataDir: string;
  let nodes: TestServer[] = [];
  const clients: S3Client[] = [];
  let d: QuotaDeployment;

  beforeAll(async () => {
    pg = await startPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'offload-pg-quota-'));
    nodes = await Promise.all([0, 1].map(() => startServer({ dataDir, args: ['--meta', pg.url] })));
    // Even calls through node A, odd ones through node B.
    d = { servers: nodes, client: (i) => clients[clients.push(sdkClient(nodes[i % 2]!)) - 1]! };
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(nodes.map((n) => n.stop()));
    await pg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('16 parallel writers on both nodes racing the last bytes (and the last objects): exactly the writes that fit succeed', async () => {
    await raceTheLastBytes(d, 'race');
    await useIsReported(d, 'race', { bytes: 10_002, objects: 12, maxBytes: 100_000 });
  });

  it('an overwrite counts its size difference; a delete through one node frees room for a write through the other at once', async () => {
    await overwritesAndDeletes(d, 'churn');
  });

  it('CopyObject and CompleteMultipartUpload count; parts in progress do not', async () => {
    await copiesAndMultipart(d, 'copies');
    for (const node of nodes) expect((await fetch(`${node.endpoint}/_offload/health`)).status).toBe(200);
  });
});
