/** `offload keys`: extra access keys, each its own owner, kept in the data folder's database. */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { openKeyStore } from '../../storage/keys.js';
import { loadMasterKey } from '../../storage/encryption/keys.js';
import { rotateMasterKey } from '../../storage/encryption/rotate.js';
import { claimDataFolder } from '../../server/data-lock.js';

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
  keys
    .command('rotate-master')
    .description('Re-wrap every data key of the encrypted objects with a new master key (the server must be stopped; blobs are not rewritten)')
    .requiredOption('--old <file>', 'the master key file the server ran with')
    .requiredOption('--new <file>', 'the new master key file (64 hex characters, mode 0600)')
    .addOption(dataOption())
    .addHelpText('after', '\nExample:\n  openssl rand -hex 32 > new.key && chmod 600 new.key\n  offload keys rotate-master --old old.key --new new.key --data ./data   # then serve with --master-key-file new.key')
    .action((opts: { old: string; new: string; data: string }) => {
      const oldKey = loadMasterKey(opts.old);
      const newKey = loadMasterKey(opts.new);
      if (oldKey.id === newKey.id) throw new Error('--old and --new hold the same key');
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
