/**
 * `offload migrate --from SOURCE --to TARGET [--blobs URL] [--from-blobs URL]`: moves a server's
 * data between a data folder (the embedded engine) and PostgreSQL metadata (a cluster), either
 * way, through the Store contract: buckets, configuration documents, objects with their bytes,
 * access keys (and the root credentials between data folders). Nothing goes through S3. Then the
 * two sides are compared: per bucket the object count, the bytes, and a digest of every key,
 * ETag and size; each object's bytes were checked against its ETag as they were copied.
 * Both sides must be stopped (a data folder is claimed like `offload serve` does).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { MasterKey } from '../../storage/encryption/keys.js';
import { checkSourceMasterKey, loadMigrateKey } from './migrate-keys.js';
import { claimDataFolder } from '../../server/data-lock.js';
import { openBlobStorage } from '../../storage/blob-backends/open.js';
import { openStore } from '../../storage/engine.js';
import { openKeyStore } from '../../storage/keys.js';
import { copyStore, storeTotals } from '../../storage/store-copy.js';
import type { Side } from './migrate-side.js';


const isPostgres = (spec: string) => /^postgres(ql)?:\/\//.test(spec);

async function openSide(spec: string, blobs: string | undefined, role: 'source' | 'target', masterKey: MasterKey | undefined): Promise<Side> {
  const blobStorage = blobs === undefined ? undefined : openBlobStorage(blobs);
  if (isPostgres(spec)) {
    const { openPostgresSide } = await import('./migrate-postgres.js');
    return openPostgresSide(spec, blobStorage, masterKey);
  }
  const dataDir = resolve(spec);
  if (role === 'source' && !existsSync(join(dataDir, 'meta.db'))) throw new Error(`${dataDir} is not an offload data folder (no meta.db)`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const release = claimDataFolder(dataDir);
  try {
    const store = await openStore(dataDir, { blobs: blobStorage, minFreeSpace: { bytes: 0 } });
    const keys = openKeyStore(dataDir);
    return {
      store,
      keys: {
        list: async () => keys.listKeys(),
        add: async (key) => void keys.createKey({ name: key.displayName, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, scope: key.scope, owner: key.owner }),
      },
      dataDir,
      async close() {
        await store.close();
        keys.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Copy every bucket, object and key between a data folder and PostgreSQL metadata (either way), then verify counts and checksums')
    .requiredOption('--from <source>', 'a data folder or postgres://user:pass@host/db')
    .requiredOption('--to <target>', 'a data folder or postgres://user:pass@host/db (must hold no buckets yet)')
    .option('--blobs <url>', "the target's blob storage: s3://bucket/prefix?endpoint=... or a shared folder (default: the target data folder)")
    .option('--from-blobs <url>', "the source's blob storage, when it was served with --blobs")
    .addOption(new Option('--master-key-file <file>', 'the master key the source\'s SSE-S3 objects are encrypted under (encrypted objects move as they are: the target must be served with it)').env('OFFLOAD_MASTER_KEY_FILE'))
    .action(async (opts: { from: string; to: string; blobs?: string; fromBlobs?: string; masterKeyFile?: string }) => {
      const started = Date.now();
      const masterKey = loadMigrateKey(opts.masterKeyFile);
      const from = await openSide(opts.from, opts.fromBlobs, 'source', masterKey);
      let to: Side | undefined;
      try {
        await checkSourceMasterKey(from.store, masterKey);
        to = await openSide(opts.to, opts.blobs, 'target', masterKey);
        const report = await copyStore(from.store, to.store, (line) => console.error(`offload migrate: ${line}`));
        let keys = 0;
        for (const key of await from.keys.list()) {
          await to.keys.add(key);
          keys++;
        }
        if (from.dataDir !== undefined && to.dataDir !== undefined && existsSync(join(from.dataDir, 'root.json')) && !existsSync(join(to.dataDir, 'root.json'))) {
          copyFileSync(join(from.dataDir, 'root.json'), join(to.dataDir, 'root.json'));
        }
        const [source, target] = await Promise.all([storeTotals(from.store), storeTotals(to.store)]);
        for (const [bucket, totals] of source) {
          const copied = target.get(bucket);
          if (!copied || copied.objects !== totals.objects || copied.bytes !== totals.bytes || copied.digest !== totals.digest) {
            throw new Error(`verification failed for bucket ${bucket}: source ${JSON.stringify(totals)}, target ${JSON.stringify(copied)}`);
          }
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`migrated ${report.buckets} buckets, ${report.configs} bucket settings, ${report.objects} objects (${report.bytes} bytes), ${keys} access keys in ${seconds} s; verified: counts, bytes and ETags match`);
        if (masterKey !== undefined) console.log(`encrypted objects were copied as they are: serve the target with --master-key-file holding master key ${masterKey.id}`);
        if (from.dataDir !== undefined && to.dataDir === undefined) console.log('root credentials: start every node with OFFLOAD_ROOT_ACCESS_KEY and OFFLOAD_ROOT_SECRET_KEY (from the data folder\'s root.json)');
      } finally {
        await to?.close();
        await from.close();
      }
    });
}
