/**
 * `offload restore s3://bucket/key [--version-id ID]` (alias `undelete`): bring back a deleted
 * or overwritten object of a versioned bucket; with a prefix (ending in /), every deleted key under it.
 */
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { parseS3Url } from '../s3/keys.js';
import { listVersions, restoreKey } from '../s3/versions.js';

export function restoreCommand(): Command {
  const cmd = new Command('restore')
    .alias('undelete')
    .description('Bring back a deleted or overwritten object of a versioned bucket (or every deleted object under a prefix)')
    .argument('<url>', 's3://bucket/key, or s3://bucket/prefix/ (ending in /) for every deleted key under it')
    .option('--version-id <id>', 'the version to bring back (default: the one before the delete marker)')
    .option('-n, --dry-run', 'show what would be restored');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload restore s3://media/logo.png                        # undo a delete
  offload restore s3://media/logo.png --version-id <id>      # undo an overwrite (see offload versions)
  offload restore s3://media/ --dry-run                      # every key a sync --delete removed`);
  cmd.action(friendly(async (url: string, opts: { versionId?: string; dryRun?: boolean }, self: Command) => {
    const loc = parseS3Url(url);
    const isPrefix = loc.prefix === '' || loc.prefix.endsWith('/');
    if (isPrefix && opts.versionId !== undefined) usage('--version-id names a version of one key: give s3://bucket/key');
    const { client } = clientFor(self);
    try {
      if (!isPrefix) {
        if (opts.dryRun) return void process.stdout.write(`(dry run) restore: s3://${loc.bucket}/${loc.prefix}\n`);
        const outcome = await restoreKey(client, loc.bucket, loc.prefix, opts.versionId);
        if (!outcome) {
          process.stderr.write(`error: s3://${loc.bucket}/${loc.prefix}: ${opts.versionId === undefined ? 'no delete marker to undo and no such key' : `no version ${opts.versionId} (or it is not the latest delete marker)`}\n`);
          process.exitCode = 1;
        } else process.stdout.write(describe(loc.bucket, loc.prefix, outcome.action, outcome.versionId));
        return;
      }
      // Keys whose latest version is a delete marker are the ones a delete (sync --delete, rm) removed.
      const hidden: string[] = [];
      for await (const v of listVersions(client, loc.bucket, loc.prefix)) if (v.isLatest && v.deleteMarker) hidden.push(v.key);
      let failed = 0;
      for (const key of hidden) {
        if (opts.dryRun) {
          process.stdout.write(`(dry run) restore: s3://${loc.bucket}/${key}\n`);
          continue;
        }
        const outcome = await restoreKey(client, loc.bucket, key).catch((err: unknown) => {
          failed++;
          process.stderr.write(`error: s3://${loc.bucket}/${key}: ${(err as Error).message}\n`);
          return undefined;
        });
        if (outcome) process.stdout.write(describe(loc.bucket, key, outcome.action, outcome.versionId));
      }
      process.stderr.write(`${opts.dryRun ? 'would restore' : 'restored'} ${hidden.length - failed}${failed ? `, ${failed} failed` : ''}\n`);
      if (failed) process.exitCode = 1;
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}

function describe(bucket: string, key: string, action: 'removed-marker' | 'copied' | 'current', versionId: string): string {
  const where = `s3://${bucket}/${key}`;
  if (action === 'removed-marker') return `restore: ${where} (removed delete marker ${versionId})\n`;
  if (action === 'copied') return `restore: ${where} (version ${versionId} is current again, as a new version)\n`;
  return `restore: ${where} is already current (version ${versionId})\n`;
}
