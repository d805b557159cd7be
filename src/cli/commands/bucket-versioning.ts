/** `offload bucket versioning s3://bucket on|suspend|status`: a bucket's versioning state. */
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { parseS3Url } from '../s3/keys.js';
import { versioningStatus } from '../s3/versions.js';

export function bucketVersioningCommand(): Command {
  const cmd = new Command('versioning')
    .description('Turn versioning on, suspend it, or show its state (on: deletes and overwrites keep the old version)')
    .argument('<bucket>', 's3://bucket')
    .argument('[state]', 'on, suspend or status', 'status');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Versioning cannot be turned off once on, only suspended (as on S3): a suspended bucket keeps its
versions, and new writes replace the "null" version. Old versions cost storage: see offload stats,
and expire them with a lifecycle rule (NoncurrentVersionExpiration).

Examples:
  offload bucket versioning s3://media on
  offload bucket versioning s3://media status
  offload bucket versioning s3://media suspend`);
  cmd.action(friendly(async (url: string, state: string, _opts: unknown, self: Command) => {
    const loc = parseS3Url(url);
    if (loc.prefix) usage('give s3://bucket without a key');
    const wanted = { on: 'Enabled', enable: 'Enabled', enabled: 'Enabled', suspend: 'Suspended', suspended: 'Suspended', off: 'Suspended' }[state.toLowerCase()];
    if (wanted === undefined && state !== 'status') usage(`unknown state "${state}": give on, suspend or status`);
    const { client } = clientFor(self);
    try {
      if (wanted !== undefined) await client.send(new PutBucketVersioningCommand({ Bucket: loc.bucket, VersioningConfiguration: { Status: wanted as 'Enabled' | 'Suspended' } }));
      const status = await versioningStatus(client, loc.bucket);
      console.log(`s3://${loc.bucket}: versioning ${status === 'Enabled' ? 'enabled' : status === 'Suspended' ? 'suspended' : 'never enabled'}`);
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
