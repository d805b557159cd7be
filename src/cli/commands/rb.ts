/** `offload rb s3://bucket [--force]`: delete a bucket (with --force, its objects first). */
import { AbortMultipartUploadCommand, DeleteBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { errorCode, usage } from '../s3/errors.js';
import { parseS3Url } from '../s3/keys.js';
import { listAll } from '../s3/remote.js';
import { withRetry } from '../s3/retry.js';
import { deleteKeys } from '../s3/transfer.js';

export function rbCommand(): Command {
  const cmd = new Command('rb')
    .description('Delete a bucket; it must be empty unless --force')
    .argument('<bucket>', 's3://bucket')
    .option('--force', 'first delete every object and abort unfinished multipart uploads');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload rb s3://old-media
  offload rb s3://old-media --force`);
  cmd.action(friendly(async (url: string, opts: { force?: boolean }, self: Command) => {
    const loc = parseS3Url(url);
    if (loc.prefix) usage('give s3://bucket without a key');
    const { client } = clientFor(self);
    try {
      if (opts.force) {
        const keys = (await listAll(client, loc.bucket, '')).map((o) => o.key);
        const result = await deleteKeys(client, loc.bucket, keys);
        if (result.failed.length) {
          for (const f of result.failed) process.stderr.write(`error: s3://${loc.bucket}/${f.key}: ${f.message}\n`);
          throw new Error(`could not delete ${result.failed.length} object(s); the bucket stays`);
        }
        if (keys.length) console.log(`deleted ${keys.length} object(s)`);
        await abortUploads(loc.bucket, client);
      }
      await withRetry(() => client.send(new DeleteBucketCommand({ Bucket: loc.bucket })));
      console.log(`remove_bucket: s3://${loc.bucket}`);
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}

async function abortUploads(bucket: string, client: ReturnType<typeof clientFor>['client']): Promise<void> {
  try {
    let keyMarker: string | undefined;
    let uploadMarker: string | undefined;
    do {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadMarker }));
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  } catch (err) {
    // Servers without ListMultipartUploads: nothing to abort that we can see.
    if (!['NotImplemented', 'MethodNotAllowed'].includes(errorCode(err) ?? '')) throw err;
  }
}
