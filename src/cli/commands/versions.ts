/** `offload versions s3://bucket/key`: every version and delete marker of a key, or of every key under a prefix. */
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { parseS3Url } from '../s3/keys.js';
import { listVersions } from '../s3/versions.js';

export function versionsCommand(): Command {
  const cmd = new Command('versions')
    .description('List the versions and delete markers of an object (newest first), or of every object under a prefix')
    .argument('<url>', 's3://bucket/key, or s3://bucket/prefix/ (ending in /) for every key under it')
    .option('--json', 'one JSON line per version');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload versions s3://media/logo.png
  offload versions s3://media/img/
  offload restore s3://media/logo.png --version-id <id>    # bring one back`);
  cmd.action(friendly(async (url: string, opts: { json?: boolean }, self: Command) => {
    const loc = parseS3Url(url);
    const exact = loc.prefix !== '' && !loc.prefix.endsWith('/');
    const { client } = clientFor(self);
    try {
      let n = 0;
      for await (const v of listVersions(client, loc.bucket, loc.prefix, exact)) {
        n++;
        const when = v.lastModified?.toISOString() ?? '';
        if (opts.json) process.stdout.write(JSON.stringify({ key: v.key, versionId: v.versionId, latest: v.isLatest, deleteMarker: v.deleteMarker, size: v.size, lastModified: when }) + '\n');
        else process.stdout.write(`${when}  ${v.deleteMarker ? '(delete marker)' : String(v.size).padStart(15)}  ${v.versionId}${v.isLatest ? '  latest' : ''}  ${v.key}\n`);
      }
      if (n === 0 && !opts.json) process.stderr.write(`no versions under s3://${loc.bucket}/${loc.prefix}\n`);
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
