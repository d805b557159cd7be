/** `offload keys`: extra access keys, each its own owner, kept in the data folder's database (or the shared --meta one). */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { openKeyStore, type KeyScope, type KeyStore } from '../../storage/keys.js';
import { loadMasterKey } from '../../storage/encryption/keys.js';
import { rotateMasterKey } from '../../storage/encryption/rotate.js';
import { claimDataFolder } from '../../server/data-lock.js';

const dataOption = () => new Option('--data <dir>', 'data folder of the server').env('OFFLOAD_DATA').default('./data');
const metaOption = () => new Option('--meta <url>', 'the servers\' PostgreSQL metadata database (as given to `offload serve --meta`) instead of a data folder').env('OFFLOAD_META');

type Where = { data: string; meta?: string };

/** Runs fn on the keys of a data folder or of a PostgreSQL metadata database, then closes them. */
async function withKeys<T>(where: Where, fn: (keys: KeyStore) => Promise<T>): Promise<T> {
  const keys: KeyStore = where.meta !== undefined ? await (await import('../../storage/postgres/keys.js')).openPgKeyStore(where.meta) : openKeyStore(where.data);
  try {
    return await fn(keys);
  } finally {
    await keys.close();
  }
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage access keys in a data folder or metadata database (works while the server runs)');
  keys
    .command('create <name>')
    .description('Create an access key; it owns the buckets it creates')
    .option('--access-key <id>', 'use this access key id instead of a generated one')
    .option('--secret-key <secret>', 'use this secret instead of a generated one')
    .option('--bucket <name>', 'limit the key to this one bucket (and let it use that bucket)')
    .addOption(new Option('--read-only', 'the key may only read and list').conflicts('readWrite'))
    .addOption(new Option('--read-write', 'the key may read and write objects, not change bucket settings').conflicts('readOnly'))
    .addOption(dataOption())
    .addOption(metaOption())
    .addHelpText('after', '\nExamples:\n  offload keys create deploy-bot --data ./data\n  offload keys create site-uploader --bucket media --read-write\n  offload keys create deploy-bot --meta postgres://offload:secret@db.internal/offload')
    .action((name: string, opts: { accessKey?: string; secretKey?: string; bucket?: string; readOnly?: boolean; readWrite?: boolean } & Where) =>
      withKeys(opts, async (store) => {
        const access = opts.readOnly ? 'read' : opts.readWrite ? 'readwrite' : 'all';
        const scope: KeyScope | undefined = opts.bucket !== undefined || access !== 'all' ? { bucket: opts.bucket, access } : undefined;
        const key = await store.createKey({ name, accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey, scope });
        console.log(`Access key: ${key.accessKeyId}`);
        console.log(`Secret key: ${key.secretAccessKey}`);
        console.log(`Owner id:   ${key.owner}`);
        console.log(`Scope:      ${describeScope(key.scope)}`);
      }),
    );
  keys
    .command('list')
    .description('List access keys (secrets are not shown)')
    .addOption(dataOption())
    .addOption(metaOption())
    .option('--json', 'one JSON object per line')
    .action((opts: { json?: boolean } & Where) =>
      withKeys(opts, async (store) => {
        for (const key of await store.listKeys()) {
          if (opts.json) console.log(JSON.stringify({ name: key.displayName, accessKeyId: key.accessKeyId, owner: key.owner, scope: key.scope ?? { access: 'all' } }));
          else console.log(`${key.accessKeyId}  ${key.displayName}  ${key.owner}  ${describeScope(key.scope)}`);
        }
      }),
    );
  keys
    .command('delete <accessKeyId>')
    .description('Delete an access key (its buckets stay, owned by its owner id)')
    .addOption(dataOption())
    .addOption(metaOption())
    .action((id: string, opts: Where) =>
      withKeys(opts, async (store) => {
        if (!(await store.deleteKey(id))) throw new Error(`no access key ${id}`);
        console.log(`deleted ${id}`);
      }),
    );
  keys
    .command('rotate-master')
    .description('Re-wrap every data key of the encrypted objects with a new master key (blobs are not rewritten); a data folder\'s server must be stopped, --meta nodes keep serving')
    .requiredOption('--old <file>', 'the master key file the server ran with')
    .requiredOption('--new <file>', 'the new master key file (64 hex characters, mode 0600)')
    .addOption(dataOption())
    .addOption(metaOption())
    .addHelpText('after', [
      '\nExample:\n  openssl rand -hex 32 > new.key && chmod 600 new.key',
      '  offload keys rotate-master --old old.key --new new.key --data ./data   # then serve with --master-key-file new.key',
      '\nWith --meta, while the nodes serve: first restart each node with --master-key-file new.key --previous-master-key-file old.key,',
      'then run rotate-master --meta URL, then (later) restart them without --previous-master-key-file.',
    ].join('\n'))
    .action(async (opts: { old: string; new: string } & Where) => {
      const oldKey = loadMasterKey(opts.old);
      const newKey = loadMasterKey(opts.new);
      if (oldKey.id === newKey.id) throw new Error('--old and --new hold the same key');
      if (opts.meta !== undefined) {
        const { rotateMasterKeyOnPostgres } = await import('./rotate-master-pg.js');
        await rotateMasterKeyOnPostgres(opts.meta, oldKey, newKey);
        return;
      }
      const release = claimDataFolder(resolve(opts.data));
      try {
        const done = rotateMasterKey(resolve(opts.data), oldKey, newKey);
        console.log(`re-wrapped ${done.dataKeys} data keys (${done.objects} objects, ${done.parts} parts of uploads in progress): master key ${oldKey.id} -> ${newKey.id}`);
      } finally {
        release();
      }
    });
  return keys;
}

function describeScope(scope: KeyScope | undefined): string {
  const access = scope?.access === 'read' ? 'read-only' : scope?.access === 'readwrite' ? 'read-write' : 'full access';
  return scope?.bucket === undefined ? `${access}, any bucket it may use` : `${access}, bucket ${scope.bucket} only`;
}
