/** `offload presign s3://bucket/key [--expires 1h]`: a URL anyone can use until it expires. */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { parseDuration, parseS3Url } from '../s3/keys.js';

const MAX_EXPIRES = 7 * 24 * 3600;

export function presignCommand(): Command {
  const cmd = new Command('presign')
    .description('Print a pre-signed URL for downloading (or with --put, uploading) one object')
    .argument('<url>', 's3://bucket/key')
    .option('--expires <duration>', 'validity: seconds or 15m, 1h, 7d (at most 7 days)', '1h')
    .option('--put', 'a URL for uploading (HTTP PUT) instead of downloading');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload presign s3://media/reports/q3.pdf --expires 15m
  curl -T video.mp4 "$(offload presign s3://media/video.mp4 --put)"`);
  cmd.action(friendly(async (url: string, opts: { expires: string; put?: boolean }, self: Command) => {
    const loc = parseS3Url(url);
    if (loc.prefix === '' || loc.prefix.endsWith('/')) usage(`${url} names no object (expected s3://bucket/key)`);
    const expiresIn = parseDuration(opts.expires);
    if (expiresIn < 1 || expiresIn > MAX_EXPIRES) usage('--expires must be between 1 second and 7 days');
    const { client } = clientFor(self);
    try {
      const command = opts.put ? new PutObjectCommand({ Bucket: loc.bucket, Key: loc.prefix }) : new GetObjectCommand({ Bucket: loc.bucket, Key: loc.prefix });
      console.log(await getSignedUrl(client, command, { expiresIn }));
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
