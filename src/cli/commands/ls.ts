/** `offload ls [s3://bucket[/prefix]]`: list buckets, or objects under a prefix. */
import { ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { formatBytes, parseS3Url } from '../s3/keys.js';
import { withRetry } from '../s3/retry.js';

interface LsOptions {
  recursive?: boolean;
  long?: boolean;
  human?: boolean;
  json?: boolean;
}

function when(d: Date | undefined): string {
  return d ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : '                   ';
}

export function lsCommand(): Command {
  const cmd = new Command('ls')
    .description('List buckets, or the objects and folders under s3://bucket[/prefix]')
    .argument('[url]', 's3://bucket[/prefix]; none lists your buckets')
    .option('-r, --recursive', 'list every object under the prefix, not just one level')
    .option('-l, --long', 'show modification time and size')
    .option('-H, --human', 'sizes in KiB/MiB/GiB (with --long)')
    .option('--json', 'one JSON object per line');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload ls
  offload ls s3://media/img/
  offload ls s3://media --recursive --long --human`);
  cmd.action(friendly(async (url: string | undefined, opts: LsOptions, self: Command) => {
    const loc = url === undefined ? undefined : parseS3Url(url);
    const { client } = clientFor(self);
    const out = (line: string) => process.stdout.write(line + '\n');
    const size = (n: number) => (opts.human ? formatBytes(n) : String(n)).padStart(opts.human ? 10 : 12);
    try {
      if (!loc) {
        const res = await withRetry(() => client.send(new ListBucketsCommand({})));
        for (const b of res.Buckets ?? []) {
          if (opts.json) out(JSON.stringify({ bucket: b.Name, created: b.CreationDate }));
          else out(opts.long ? `${when(b.CreationDate)}  ${b.Name}` : `${b.Name}`);
        }
        return;
      }
      const base = opts.recursive ? '' : loc.prefix.slice(0, loc.prefix.lastIndexOf('/') + 1);
      let token: string | undefined;
      do {
        const page = await withRetry(() =>
          client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.prefix || undefined, Delimiter: opts.recursive ? undefined : '/', ContinuationToken: token })),
        );
        for (const p of page.CommonPrefixes ?? []) {
          if (p.Prefix === undefined) continue;
          if (opts.json) out(JSON.stringify({ prefix: p.Prefix }));
          else out(opts.long ? `${' '.repeat(19)}  ${'PRE'.padStart(opts.human ? 10 : 12)}  ${p.Prefix.slice(base.length)}` : p.Prefix.slice(base.length));
        }
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          if (opts.json) out(JSON.stringify({ key: o.Key, size: o.Size, lastModified: o.LastModified, etag: o.ETag?.replace(/"/g, '') }));
          else out(opts.long ? `${when(o.LastModified)}  ${size(o.Size ?? 0)}  ${o.Key.slice(base.length)}` : o.Key.slice(base.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
