/**
 * The Store contract run against PgStore: metadata in a real throw-away PostgreSQL (Debian's
 * package, test/helpers/postgres.ts), blob bytes in BlobFiles in a temp folder; and the
 * cross-instance cases with two PgStores on one database, as two nodes would be.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { BlobFiles } from '../../../src/storage/blobs.js';
import { openPgStore, type PgStore } from '../../../src/storage/postgres/store.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { missingPeer } from '../../helpers/require-peer.js';
import { runCrossInstanceConformance } from './cross-instance.js';
import { runStoreConformance } from './store-contract.js';

const GRACE_MS = 2000;
let server: Promise<TestPostgres> | undefined;
let databases = 0;
afterAll(async () => (await server)?.stop());

/** A fresh database and blob folder on the file's one PostgreSQL cluster. */
async function freshData(): Promise<{ url: string; dir: string }> {
  server ??= startPostgres();
  const url = await (await server).createDatabase(`t${++databases}`);
  return { url, dir: mkdtempSync(join(tmpdir(), 'offload-pg-blobs-')) };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('PostgreSQL metadata', () => {
  runStoreConformance('PostgreSQL metadata + blob files', async () => {
    const { url, dir } = await freshData();
    const open = () => openPgStore(url, { blobDir: dir, blobGraceMs: GRACE_MS });
    let store: PgStore = await open();
    const planted: string[] = [];
    const fixture = {
      store,
      reopen: async () => (store = await open()),
      blobCount: async () => filesUnder(join(dir, 'blobs')).length,
      crash: {
        // What a node that died between placing a blob and committing it leaves: the placed
        // bytes and their pending row, older than the grace period.
        async leaveDebris() {
          const files = new BlobFiles(dir);
          const id = randomBytes(16).toString('hex');
          mkdirSync(dirname(files.pathOf(id)), { recursive: true });
          writeFileSync(files.pathOf(id), randomBytes(1000));
          const client = new pg.Client(url);
          await client.connect();
          await client.query("INSERT INTO blobs (id, size, refs, since) VALUES ($1, 1000, 0, now() - interval '1 hour')", [id]);
          await client.end();
          planted.push(files.pathOf(id));
        },
        debris: async () => planted.filter((path) => existsSync(path)),
      },
      cleanup: async () => {
        await (fixture.store ?? store).close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return fixture;
  });

  runCrossInstanceConformance('two PgStores on one database', async () => {
    const { url, dir } = await freshData();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url, { blobDir: dir, blobGraceMs: GRACE_MS })));
    return {
      stores,
      cleanup: async () => {
        await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
