/** `offload mb s3://bucket [--public] [--versioning]`: create a bucket. */
import { CreateBucketCommand, PutBucketVersioningCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { errorCode, usage } from '../s3/errors.js';
import { makePublic } from '../s3/bucket.js';
import { parseS3Url } from '../s3/keys.js';

export function mbCommand(): Command {
  const cmd = new Command('mb')
    .description('Create a bucket')
    .argument('<bucket>', 's3://bucket')
    .option('--public', 'also make its objects publicly readable (bucket policy, as `offload public`)')
    .option('--unblock', 'with --public: turn off S3 Block Public Access for bucket policies (AWS)')
    .option('--versioning', 'turn on versioning: overwrites and deletes keep the old version (offload versions, offload restore)');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload mb s3://media --public --endpoint http://localhost:9000
  offload mb s3://media --versioning
  offload mb s3://media --region eu-west-1`);
  cmd.action(friendly(async (url: string, opts: { public?: boolean; unblock?: boolean; versioning?: boolean }, self: Command) => {
    const loc = parseS3Url(url);
    if (loc.prefix) usage('give s3://bucket without a key');
    const { client } = clientFor(self);
    try {
      const region = await client.config.region();
      try {
        await client.send(
          new CreateBucketCommand({
            Bucket: loc.bucket,
            ...(region && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } } : {}),
          }),
        );
        console.log(`make_bucket: s3://${loc.bucket}`);
      } catch (err) {
        if (errorCode(err) !== 'BucketAlreadyOwnedByYou') throw err;
        console.log(`s3://${loc.bucket} already exists and is yours`);
      }
      if (opts.versioning) {
        await client.send(new PutBucketVersioningCommand({ Bucket: loc.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
        console.log(`s3://${loc.bucket}: versioning enabled (deletes and overwrites keep the old version)`);
      }
      if (opts.public) {
        await makePublic(client, loc.bucket, { unblock: opts.unblock });
        console.log(`s3://${loc.bucket}: objects are publicly readable (bucket policy)`);
      }
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
