/**
 * The Store contract (and its cross-instance cases) on PostgreSQL metadata with each remote or
 * shared blob backend: an S3 bucket (a local Offload as the S3 service) and a shared folder.
 * The PostgreSQL + local-files combination runs in test/conformance/store/postgres.test.ts.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe } from 'vitest';
import { openBlobStorage } from '../../../src/storage/blob-backends/open.js';
import { openPgStore, type PgStore } from '../../../src/storage/postgres/store.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { missingPeer } from '../../helpers/require-peer.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { runCrossInstanceConformance } from '../store/cross-instance.js';
import { runStoreConformance } from '../store/store-contract.js';
import { blobsUrl, clientOf, createBucket } from './s3-fixture.js';

const GRACE_MS = 2000;

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('PostgreSQL metadata with remote and shared blob backends', () => {
  let pg: TestPostgres;
  let peer: TestServer;
  let n = 0;
  beforeAll(async () => {
    [pg, peer] = await Promise.all([startPostgres(), startServer()]);
    await createBucket(peer, 'blobs');
  }, 60_000);
  afterAll(async () => {
    await peer?.stop();
    await pg?.stop();
  });

  const s3Data = async () => {
    const id = ++n;
    const prefix = `store${id}/`;
    return { url: await pg.createDatabase(`s3_${id}`), blobs: () => openBlobStorage(blobsUrl(peer, 'blobs', prefix, GRACE_MS)), prefix };
  };
  const remoteCount = async (prefix: string) => ((await clientOf(peer).send(new ListObjectsV2Command({ Bucket: 'blobs', Prefix: `${prefix}blobs/` }))).Contents ?? []).length;

  runStoreConformance('PostgreSQL metadata + S3 blobs (a local Offload)', async () => {
    const { url, blobs, prefix } = await s3Data();
    const open = () => openPgStore(url, { blobs: blobs(), blobGraceMs: GRACE_MS });
    let store: PgStore = await open();
    const fixture = {
      store,
      metadataOnlyElsewhere: true,
      reopen: async () => (store = await open()),
      blobCount: () => remoteCount(prefix),
      cleanup: async () => {
        await (fixture.store ?? store).close().catch(() => undefined);
      },
    };
    return fixture;
  });

  runCrossInstanceConformance('PgStores on one database, blobs in one S3 bucket', async () => {
    const { url, blobs } = await s3Data();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url, { blobs: blobs(), blobGraceMs: GRACE_MS })));
    return { stores, cleanup: async () => void (await Promise.all(stores.map((s) => s.close().catch(() => undefined)))) };
  });

  runStoreConformance('PostgreSQL metadata + a shared blob folder', async () => {
    const url = await pg.createDatabase(`shared_${++n}`);
    const dir = mkdtempSync(join(tmpdir(), 'offload-pg-shared-'));
    const open = () => openPgStore(url, { blobs: openBlobStorage(dir), blobGraceMs: GRACE_MS });
    let store: PgStore = await open();
    const files = () => (existsSync(join(dir, 'blobs')) ? readdirSync(join(dir, 'blobs'), { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).length : 0);
    const fixture = {
      store,
      metadataOnlyElsewhere: true,
      reopen: async () => (store = await open()),
      blobCount: async () => files(),
      cleanup: async () => {
        await (fixture.store ?? store).close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return fixture;
  });
});
