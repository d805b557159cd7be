/** `offload put DEST [FILES...]`: upload the given files (or paths read from stdin), keys relative to cwd. */
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, finish, reporterFor, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { executePlan } from '../s3/execute.js';
import { addGeneratedOptions, extendWithGenerated, generatedSettings, isActive, runLater, type GeneratedOptions } from '../s3/generated.js';
import { folderPrefix, keyFor, parseS3Url } from '../s3/keys.js';
import { addTransferOptions, buildSettings, type TransferOptions } from '../s3/options.js';
import { planPut } from '../s3/plan-upload.js';
import { listedFiles, readList } from '../s3/walk.js';

interface PutOptions extends TransferOptions, GeneratedOptions {
  null?: boolean;
}

export function putCommand(): Command {
  const cmd = new Command('put')
    .description('Upload files to a bucket; keys are the paths relative to the current folder')
    .argument('<dest>', 's3://bucket[/prefix]')
    .argument('[files...]', 'files or folders; none: read paths from stdin, one per line');
  addTransferOptions(cmd).option('-0, --null', 'paths on stdin are NUL-separated (find -print0)');
  addGeneratedOptions(cmd, { sync: false });
  addConnectionOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Every file is sent (no comparison; use \`offload sync\` to send only changes), with the same
Content-Type and Cache-Control rules as sync. --hash also sends content-hashed copies of the files
and merges their entries into the bucket's offload-manifest.json (uploaded last); --precompress
adds KEY.br and KEY.gz beside text files.
${CONNECTION_HELP}

Examples:
  offload put s3://media logo.svg css/site.css
  find . -type f -name '*.webp' | offload put s3://media --public
  find . -type f -print0 | offload put s3://media/assets -0
  offload put s3://media --hash css/site.css img/logo.png`,
  );
  cmd.action(friendly(async (dest: string, files: string[], opts: PutOptions, self: Command) => {
    const to = parseS3Url(dest);
    const settings = buildSettings(opts);
    const g = generatedSettings(opts);
    let paths = files;
    if (paths.length === 0) {
      if (process.stdin.isTTY) usage('no files given: pass FILES or pipe paths on stdin (find . -type f | offload put s3://bucket)');
      paths = await readList('-', !!opts.null);
      if (paths.length === 0) usage('no paths on stdin');
    }
    const { client } = clientFor(self);
    const reporter = reporterFor(opts);
    const cwd = process.cwd();
    try {
      const found = await listedFiles(cwd, paths, { warn: (m) => reporter.warn(m), fail: (p, m) => reporter.fail(p, m), filter: settings.filter, followSymlinks: settings.followSymlinks });
      const plan = await planPut(found, to.bucket, (f) => keyFor(to.prefix, f.rel), settings, reporter);
      const ctx = { client, settings, reporter, g };
      const failedBefore = reporter.failed;
      const later = isActive(g) ? await extendWithGenerated(plan, { files: found, bucket: to.bucket, prefix: folderPrefix(to.prefix) }, ctx) : undefined;
      await executePlan(plan, { client, public: settings.public, dryRun: settings.dryRun, concurrency: settings.concurrency, reporter });
      if (later) await runLater(later, failedBefore, ctx);
      finish(reporter);
    } finally {
      reporter.stop();
      client.destroy();
    }
  }));
  return cmd;
}
