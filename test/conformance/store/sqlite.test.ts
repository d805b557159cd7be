/** The Store contract run against the embedded engine: SQLite metadata plus blob files in a temp data folder. */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../../src/storage/engine.js';
import type { Store } from '../../../src/storage/types.js';
import { runStoreConformance } from './store-contract.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

runStoreConformance('SQLite engine', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'offload-store-contract-'));
  // No free-space threshold: the machine's disk filling up is not what these tests are about.
  const open = () => openStore(dataDir, { minFreeSpace: { bytes: 0 } });
  let store: Store = await open();
  const planted: string[] = [];
  const fixture = {
    store,
    reopen: async () => (store = await open()),
    blobCount: async () => filesUnder(join(dataDir, 'blobs')).length,
    crash: {
      async leaveDebris() {
        const temp = join(dataDir, 'tmp', randomBytes(16).toString('hex'));
        writeFileSync(temp, randomBytes(1000));
        const id = randomBytes(16).toString('hex');
        const orphanDir = join(dataDir, 'blobs', id.slice(0, 2), id.slice(2, 4));
        mkdirSync(orphanDir, { recursive: true });
        writeFileSync(join(orphanDir, id), randomBytes(1000));
        planted.push(temp, join(orphanDir, id));
      },
      debris: async () => planted.filter((path) => existsSync(path)),
    },
    cleanup: async () => {
      await (fixture.store ?? store).close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return fixture;
});
