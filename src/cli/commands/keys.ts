/** `offload keys`: extra access keys, each its own owner, kept in the data folder's database. */
import { Command, Option } from 'commander';
import { openKeyStore } from '../../storage/keys.js';

const dataOption = () => new Option('--data <dir>', 'data folder of the server').env('OFFLOAD_DATA').default('./data');

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage access keys in a data folder (works while the server runs)');
  keys
    .command('create <name>')
    .description('Create an access key; it owns the buckets it creates')
    .option('--access-key <id>', 'use this access key id instead of a generated one')
    .option('--secret-key <secret>', 'use this secret instead of a generated one')
    .addOption(dataOption())
    .addHelpText('after', '\nExample:\n  offload keys create deploy-bot --data ./data')
    .action((name: string, opts: { accessKey?: string; secretKey?: string; data: string }) => {
      const store = openKeyStore(opts.data);
      try {
        const key = store.createKey({ name, accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey });
        console.log(`Access key: ${key.accessKeyId}`);
        console.log(`Secret key: ${key.secretAccessKey}`);
        console.log(`Owner id:   ${key.owner}`);
      } finally {
        store.close();
      }
    });
  keys
    .command('list')
    .description('List access keys (secrets are not shown)')
    .addOption(dataOption())
    .option('--json', 'one JSON object per line')
    .action((opts: { data: string; json?: boolean }) => {
      const store = openKeyStore(opts.data);
      try {
        for (const key of store.listKeys()) {
          if (opts.json) console.log(JSON.stringify({ name: key.displayName, accessKeyId: key.accessKeyId, owner: key.owner }));
          else console.log(`${key.accessKeyId}  ${key.displayName}  ${key.owner}`);
        }
      } finally {
        store.close();
      }
    });
  keys
    .command('delete <accessKeyId>')
    .description('Delete an access key (its buckets stay, owned by its owner id)')
    .addOption(dataOption())
    .action((id: string, opts: { data: string }) => {
      const store = openKeyStore(opts.data);
      try {
        if (!store.deleteKey(id)) throw new Error(`no access key ${id}`);
        console.log(`deleted ${id}`);
      } finally {
        store.close();
      }
    });
  return keys;
}
