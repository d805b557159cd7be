/** `offload cp SRC DEST`: copy one file/object (or, with --recursive, a whole folder/prefix) without comparing. */
import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, finish, reporterFor, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { executePlan } from '../s3/execute.js';
import { parseLocation, type LocalLocation, type S3Location } from '../s3/keys.js';
import { addTransferOptions, buildSettings, type TransferOptions } from '../s3/options.js';
import type { Plan } from '../s3/plan.js';
import { planPut } from '../s3/plan-upload.js';
import { headObject } from '../s3/remote.js';
import { runSync } from '../s3/sync.js';

interface CpOptions extends TransferOptions {
  recursive?: boolean;
}

async function statOrUndefined(path: string) {
  return stat(path).catch(() => undefined);
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

export function cpCommand(): Command {
  const cmd = new Command('cp')
    .description('Copy a file to a bucket, an object to a file, or an object to another bucket (always sends)')
    .argument('<src>', 'local path or s3://bucket/key')
    .argument('<dest>', "local path or s3://bucket/key (a trailing '/' keeps the source's name)")
    .option('-r, --recursive', 'copy a whole folder or prefix');
  addTransferOptions(cmd);
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `${CONNECTION_HELP}

Examples:
  offload cp ./video/intro.mp4 s3://media/video/ --public
  offload cp s3://media/video/intro.mp4 ./intro.mp4
  offload cp s3://media/video/ s3://archive/video/ --recursive
  offload cp ./fonts s3://media/fonts --recursive --cache-control '*=public, max-age=31536000, immutable'`);
  cmd.action(friendly(async (src: string, dest: string, opts: CpOptions, self: Command) => {
    const from = parseLocation(src);
    const to = parseLocation(dest);
    if (from.kind === 'local' && to.kind === 'local') usage('one of SRC and DEST must be an s3:// URL');
    const settings = buildSettings(opts, { force: true });
    const { client } = clientFor(self);
    const reporter = reporterFor(opts);
    const exec = (plan: Plan) => executePlan(plan, { client, public: settings.public, dryRun: settings.dryRun, concurrency: settings.concurrency, reporter });
    try {
      if (opts.recursive) {
        await runSync(from, to, { client, settings, reporter });
      } else if (from.kind === 'local') {
        const s3 = to as S3Location;
        const st = await statOrUndefined(from.path);
        if (!st) usage(`no such file: ${src}`);
        if (st.isDirectory()) usage(`${src} is a folder: add --recursive (or use \`offload sync\`)`);
        const name = basename(from.path).normalize('NFC');
        const key = s3.prefix === '' || s3.prefix.endsWith('/') ? s3.prefix + name : s3.prefix;
        const file = { rel: name, path: from.path, size: st.size, mtimeMs: st.mtimeMs };
        await exec(await planPut([file], s3.bucket, () => key, settings, reporter));
      } else {
        if (from.prefix === '' || from.prefix.endsWith('/')) usage(`${src} names no object: add --recursive to copy a prefix`);
        const head = await headObject(client, from.bucket, from.prefix);
        if (!head) throw new Error(`no such object: ${src}`);
        const name = lastSegment(from.prefix);
        if (to.kind === 's3') {
          const key = to.prefix === '' || to.prefix.endsWith('/') ? to.prefix + name : to.prefix;
          await exec({ transfers: [{ op: 'copy', change: 'created', fromBucket: from.bucket, fromKey: from.prefix, bucket: to.bucket, key, rel: name, size: head.size }], deletions: [], skipped: 0 });
        } else {
          const local = to as LocalLocation;
          const isDir = dest.endsWith('/') || (await statOrUndefined(local.path))?.isDirectory();
          if (isDir && (name === '' || name === '.' || name === '..')) usage(`cannot name a file after ${src}`);
          const path = isDir ? join(local.path, name) : local.path;
          const lastModified = head.lastModified ?? new Date();
          await exec({ transfers: [{ op: 'download', change: 'created', bucket: from.bucket, key: from.prefix, rel: name, path, size: head.size, lastModified }], deletions: [], skipped: 0 });
        }
      }
      finish(reporter);
    } finally {
      reporter.stop();
      client.destroy();
    }
  }));
  return cmd;
}
