/** `offload purge s3://media/path [--prefix]`: delete filled objects of an origin bucket, so the next GET refetches them. */
import { Command } from 'commander';
import { addAdminOptions, adminConnection, jsonOrThrow, signedRequest } from '../admin-client.js';
import { parseS3Url } from '../s3/keys.js';

export function purgeCommand(): Command {
  return addAdminOptions(new Command('purge')
    .description("Delete an origin bucket's filled copy of a key (or of every key under a prefix); the next GET fetches it again")
    .argument('<url>', 's3://bucket/key, or s3://bucket/prefix with --prefix')
    .option('--prefix', 'purge every filled object under the URL\'s path')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Objects uploaded by users are never purged, only those filled from the origin.

Examples:
  offload purge s3://media/img/logo.png
  offload purge s3://media/img/ --prefix
  offload purge s3://media --prefix           # everything filled`))
    .action(async (url: string, opts: { prefix?: boolean; json?: boolean; endpoint?: string; region?: string; accessKey?: string; secretKey?: string }) => {
      const loc = parseS3Url(url);
      if (!opts.prefix && loc.prefix === '') throw new Error('name a key (s3://bucket/key), or add --prefix to purge a prefix');
      const conn = adminConnection(opts);
      const body = JSON.stringify(opts.prefix ? { prefix: loc.prefix } : { key: loc.prefix });
      const result = await jsonOrThrow<{ purged: number; kept: number }>(await signedRequest(conn, 'POST', `/_offload/buckets/${encodeURIComponent(loc.bucket)}/purge`, { body }), conn.endpoint);
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(`${loc.bucket}: ${result.purged} filled object${result.purged === 1 ? '' : 's'} purged${result.kept ? `, ${result.kept} uploaded by users kept` : ''}\n`);
    });
}
