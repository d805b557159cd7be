/** `offload sync SRC DEST`: make DEST like SRC, sending only what changed. */
import { applyEncryption, type EncryptionFlags } from '../s3/encryption.js';
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, finish, reporterFor, stateFileOf, friendly } from '../s3/command.js';
import { parseLocation, type S3Location } from '../s3/keys.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Reporter } from '../s3/report.js';
import { versioningStatus } from '../s3/versions.js';
import { usage } from '../s3/errors.js';
import { addGeneratedOptions, extendWithGenerated, generatedSettings, isActive, runLater, type GeneratedOptions, type Later } from '../s3/generated.js';
import { addSyncOptions, buildSettings, type SyncOptions } from '../s3/options.js';
import { runSync } from '../s3/sync.js';
import { readList } from '../s3/walk.js';
import { bucketCacheRules, shadowedFiles, shadowNote } from '../s3/shadowed.js';

export function syncCommand(): Command {
  const cmd = new Command('sync')
    .description('Sync a folder to a bucket (or a bucket to a folder, or bucket to bucket), sending only changes')
    .argument('<src>', 'local folder or s3://bucket[/prefix]')
    .argument('<dest>', 'local folder or s3://bucket[/prefix]');
  addSyncOptions(cmd);
  addGeneratedOptions(cmd, { sync: true });
  addConnectionOptions(cmd);
  cmd.option('--sse <algorithm>', 'encrypt what is uploaded at rest with the server\'s key (SSE-S3): AES256');
  cmd.option('--sse-c-key-file <file>', 'encrypt what is uploaded with this customer key (SSE-C: 32 bytes, 64 hex characters or base64); downloads and copies use it too');
  cmd.addHelpText(
    'after',
    `
Unchanged files are found by content: sizes first, then MD5 against the ETag (or the x-amz-meta-md5
stored on every upload, for multipart objects). Content-Type comes from the file extension, with
charset=utf-8 on text; names no table knows get text/plain when they are UTF-8, else
application/octet-stream. Cache-Control: content-hashed names (app.3f2a9c1b.js) store
'public, max-age=31536000, immutable'; other files store none, so the bucket's cache rules
(\`offload bucket rules\`) or the server's default for the type answer. --cache-control stores an
explicit header, which wins over any rule (the summary says when it shadows one); 'GLOB=' or ''
stores none and removes a stored header. When only the intended headers change, objects are
updated in place (CopyObject), not re-sent.

--hash also uploads a content-hashed copy of every file (css/site.css → css/site.3f2a9c1b.css,
references between the files rewritten, Cache-Control immutable) and, last, offload-manifest.json
(no-cache) mapping each path to its hashed key. With --delete, replaced hashed objects are kept for
--keep-hashed (7d) after they were replaced. --precompress adds KEY.br and KEY.gz beside text files,
served by \`offload serve\` to clients that accept them.
${CONNECTION_HELP}

Examples:
  offload sync ./public s3://media --public
  offload sync ./public s3://media/site --delete --max-delete 100 --keep 'uploads/'
  offload sync ./dist s3://media --exclude '*.map' --cache-control '*.html=no-cache'
  offload sync ./dist s3://media --dry-run --json
  offload sync ./public/media s3://media --hash --hash-base /media/ --delete --manifest-out offload-manifest.json
  offload sync ./dist s3://media --precompress
  git diff --name-only HEAD~1 -- public | sed 's|^public/||' | offload sync public s3://media --files-from -
  offload sync s3://media ./backup
  offload sync s3://media s3://media-staging --endpoint https://ACCOUNT.r2.cloudflarestorage.com`,
  );
  cmd.action(friendly(async (src: string, dest: string, opts: SyncOptions & GeneratedOptions & EncryptionFlags, self: Command) => {
    const from = parseLocation(src);
    const to = parseLocation(dest);
    const settings = buildSettings(opts);
    const g = generatedSettings(opts);
    if (isActive(g) && (from.kind !== 'local' || to.kind !== 's3')) usage('--hash and --precompress need a local SRC and an s3:// DEST');
    if (g.hash && opts.filesFrom) usage('--hash needs the whole folder (the manifest describes it): it cannot be combined with --files-from');
    const filesFrom = opts.filesFrom ? await readList(opts.filesFrom, !!opts.null) : undefined;
    const { conn, client } = clientFor(self);
    applyEncryption(client, opts);
    const reporter = reporterFor(opts);
    const stateBucket = to.kind === 's3' ? to : from.kind === 's3' ? from : undefined;
    const ctx = { client, settings, reporter, g };
    let later: Later | undefined;
    try {
      const failedBefore = reporter.failed;
      await runSync(from, to, {
        client, settings, reporter, filesFrom, stateFile: stateFileOf(opts, conn.endpoint, stateBucket),
        // Always: without --precompress it still removes siblings made stale by a changed file.
        extendPlan: async (plan, seen) => {
          const rules = bucketCacheRules(client, conn.endpoint || process.env.AWS_ENDPOINT_URL_S3, seen.bucket);
          later = await extendWithGenerated(plan, seen, ctx);
          const shadowed = shadowedFiles(seen.files, seen.prefix, (await rules) ?? [], settings);
          reporter.shadowed(shadowed.count, shadowNote(shadowed));
        },
      });
      if (later) await runLater(later, failedBefore, ctx);
      if (opts.delete && to.kind === 's3' && reporter.counts.deleted > 0 && !opts.dryRun) await noteRecoverable(client, to, reporter);
      finish(reporter);
    } finally {
      reporter.stop();
      client.destroy();
    }
  }));
  return cmd;
}

/** Deletions into a versioned bucket only wrote delete markers: say so, and how to undo them. */
async function noteRecoverable(client: S3Client, to: S3Location, reporter: Reporter): Promise<void> {
  const status = await versioningStatus(client, to.bucket).catch(() => undefined);
  if (status !== 'Enabled') return;
  const where = `s3://${to.bucket}/${to.prefix && !to.prefix.endsWith('/') ? `${to.prefix}/` : to.prefix}`;
  reporter.note(`the deletions are recoverable: s3://${to.bucket} is versioned. \`offload versions ${where}\` lists them, \`offload restore ${where}\` brings every deleted key back`);
}
