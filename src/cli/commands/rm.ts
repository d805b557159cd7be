/** `offload rm s3://bucket/key [--recursive]`: delete an object, or everything under a prefix. */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { parseS3Url } from '../s3/keys.js';
import { listAll } from '../s3/remote.js';
import { withRetry } from '../s3/retry.js';
import { deleteKeys } from '../s3/transfer.js';

interface RmOptions {
  recursive?: boolean;
  dryRun?: boolean;
  json?: boolean;
  exclude?: string[];
}

export function rmCommand(): Command {
  const cmd = new Command('rm')
    .description('Delete an object, or with --recursive every object under a prefix')
    .argument('<url>', 's3://bucket/key or, with --recursive, s3://bucket[/prefix]')
    .option('-r, --recursive', 'delete every object whose key starts with the prefix')
    .option('-n, --dry-run', 'show what would be deleted')
    .option('--json', 'one JSON line per deleted key');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload rm s3://media/old/logo.png
  offload rm s3://media/drafts/ --recursive --dry-run`);
  cmd.action(friendly(async (url: string, opts: RmOptions, self: Command) => {
    const loc = parseS3Url(url);
    if (!opts.recursive && (loc.prefix === '' || loc.prefix.endsWith('/'))) usage(`${url} names no object; add --recursive to delete everything under it`);
    const { client } = clientFor(self);
    const say = (key: string) =>
      process.stdout.write((opts.json ? JSON.stringify({ op: 'delete', bucket: loc.bucket, key, dryRun: opts.dryRun || undefined }) : `${opts.dryRun ? '(dry run) ' : ''}delete: s3://${loc.bucket}/${key}`) + '\n');
    try {
      if (!opts.recursive) {
        if (!opts.dryRun) await withRetry(() => client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.prefix })));
        say(loc.prefix);
        return;
      }
      const keys = (await listAll(client, loc.bucket, loc.prefix)).map((o) => o.key);
      if (opts.dryRun) {
        keys.forEach(say);
        return;
      }
      const result = await deleteKeys(client, loc.bucket, keys);
      result.deleted.forEach(say);
      for (const f of result.failed) process.stderr.write(`error: s3://${loc.bucket}/${f.key}: ${f.message}\n`);
      process.stderr.write(`deleted ${result.deleted.length}${result.failed.length ? `, ${result.failed.length} failed` : ''}\n`);
      if (result.failed.length) process.exitCode = 1;
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
