/** `offload public s3://bucket`: let anyone GET the bucket's objects through a bucket policy. */
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { makePublic, publicReadStatement } from '../s3/bucket.js';
import { parseS3Url } from '../s3/keys.js';

export function publicCommand(): Command {
  const cmd = new Command('public')
    .description('Make every object of a bucket publicly readable with a bucket policy (s3:GetObject for "*")')
    .argument('<bucket>', 's3://bucket')
    .option('--unblock', 'first turn off S3 Block Public Access for bucket policies on this bucket (AWS)')
    .option('--print', 'print the policy statement instead of applying it');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `
This is the way to serve a bucket publicly when it does not accept ACLs (Object Ownership
"bucket owner enforced", the AWS default): other statements of an existing policy are kept.
${CONNECTION_HELP}

Examples:
  offload public s3://media
  offload public s3://media --unblock`);
  cmd.action(friendly(async (url: string, opts: { unblock?: boolean; print?: boolean }, self: Command) => {
    const loc = parseS3Url(url);
    if (loc.prefix) usage('offload public applies to a whole bucket: give s3://bucket without a key');
    if (opts.print) {
      console.log(JSON.stringify({ Version: '2012-10-17', Statement: [publicReadStatement(loc.bucket)] }, null, 2));
      return;
    }
    const { client } = clientFor(self);
    try {
      await makePublic(client, loc.bucket, { unblock: opts.unblock });
      console.log(`s3://${loc.bucket}: objects are now publicly readable (bucket policy)`);
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
