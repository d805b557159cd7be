/** `offload keys`: extra access keys, each its own owner, kept in the data folder's database. */
import { Command, Option } from 'commander';
import { openKeyStore, type KeyScope } from '../../storage/keys.js';

const dataOption = () => new Option('--data <dir>', 'data folder of the server').env('OFFLOAD_DATA').default('./data');

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage access keys in a data folder (works while the server runs)');
  keys
    .command('create <name>')
    .description('Create an access key; it owns the buckets it creates')
    .option('--access-key <id>', 'use this access key id instead of a generated one')
    .option('--secret-key <secret>', 'use this secret instead of a generated one')
    .option('--bucket <name>', 'limit the key to this one bucket (and let it use that bucket)')
    .addOption(new Option('--read-only', 'the key may only read and list').conflicts('readWrite'))
    .addOption(new Option('--read-write', 'the key may read and write objects, not change bucket settings').conflicts('readOnly'))
    .addOption(dataOption())
    .addHelpText('after', '\nExamples:\n  offload keys create deploy-bot --data ./data\n  offload keys create site-uploader --bucket media --read-write')
    .action((name: string, opts: { accessKey?: string; secretKey?: string; bucket?: string; readOnly?: boolean; readWrite?: boolean; data: string }) => {
      const store = openKeyStore(opts.data);
      try {
        const access = opts.readOnly ? 'read' : opts.readWrite ? 'readwrite' : 'all';
        const scope: KeyScope | undefined = opts.bucket !== undefined || access !== 'all' ? { bucket: opts.bucket, access } : undefined;
        const key = store.createKey({ name, accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey, scope });
        console.log(`Access key: ${key.accessKeyId}`);
        console.log(`Secret key: ${key.secretAccessKey}`);
        console.log(`Owner id:   ${key.owner}`);
        console.log(`Scope:      ${describeScope(key.scope)}`);
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
          if (opts.json) console.log(JSON.stringify({ name: key.displayName, accessKeyId: key.accessKeyId, owner: key.owner, scope: key.scope ?? { access: 'all' } }));
          else console.log(`${key.accessKeyId}  ${key.displayName}  ${key.owner}  ${describeScope(key.scope)}`);
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

function describeScope(scope: KeyScope | undefined): string {
  const access = scope?.access === 'read' ? 'read-only' : scope?.access === 'readwrite' ? 'read-write' : 'full access';
  return scope?.bucket === undefined ? `${access}, any bucket it may use` : `${access}, bucket ${scope.bucket} only`;
}
