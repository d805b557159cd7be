/** `offload keys`: extra access keys, each its own owner, kept in the data folder's database (or the shared --meta one). */
import { Command, Option } from 'commander';
import { openKeyStore, type KeyStore } from '../../storage/keys.js';

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
    .addOption(dataOption())
    .addOption(metaOption())
    .addHelpText('after', '\nExamples:\n  offload keys create deploy-bot --data ./data\n  offload keys create deploy-bot --meta postgres://offload:secret@db.internal/offload')
    .action((name: string, opts: { accessKey?: string; secretKey?: string } & Where) =>
      withKeys(opts, async (store) => {
        const key = await store.createKey({ name, accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey });
        console.log(`Access key: ${key.accessKeyId}`);
        console.log(`Secret key: ${key.secretAccessKey}`);
        console.log(`Owner id:   ${key.owner}`);
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
          if (opts.json) console.log(JSON.stringify({ name: key.displayName, accessKeyId: key.accessKeyId, owner: key.owner }));
          else console.log(`${key.accessKeyId}  ${key.displayName}  ${key.owner}`);
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
  return keys;
}
