/** The sync engine: lists both sides, plans, runs the plan. Used by `sync` and `cp --recursive`. */
import type { S3Client } from '@aws-sdk/client-s3';
import { stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { executePlan } from './execute.js';
import { usage } from './errors.js';
import { folderPrefix, type Location, type S3Location } from './keys.js';
import type { Events, Plan, SyncSettings } from './plan.js';
import { planCopy, planDownload } from './plan-remote.js';
import { planUpload } from './plan-upload.js';
import { listAll, type RemoteObject } from './remote.js';
import type { Reporter } from './report.js';
import { SyncState } from './state.js';
import { listedFiles, walkFolder, type LocalFile } from './walk.js';

export interface SyncRun {
  client: S3Client;
  settings: SyncSettings;
  reporter: Reporter;
  /** State file path, or undefined for none. */
  stateFile?: string;
  /** --files-from paths (relative to the local source). */
  filesFrom?: string[];
  /**
   * Lets a caller add generated uploads to the plan before it runs (see addGeneratedUpload), with
   * what planning saw: the local files and the destination listing (folder → bucket only).
   */
  extendPlan?: (plan: Plan, seen: { files: LocalFile[]; remote: RemoteObject[]; bucket: string; prefix: string; state: SyncState }) => Promise<void> | void;
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
}

/** Walks a local folder, collecting the relative paths that could not be read. */
async function localFiles(root: string, run: SyncRun, events: Events, useFilter: boolean): Promise<{ files: LocalFile[]; unreadable: string[] }> {
  const unreadable: string[] = [];
  const walkEvents = {
    warn: (m: string) => events.warn(m),
    fail: (path: string, message: string) => {
      unreadable.push(relative(root, path).split(sep).join('/').normalize('NFC'));
      events.fail(path, message);
    },
    filter: useFilter ? run.settings.filter : undefined,
    followSymlinks: run.settings.followSymlinks,
  };
  const files = run.filesFrom ? await listedFiles(root, run.filesFrom, walkEvents) : await walkFolder(root, walkEvents);
  return { files, unreadable };
}

export async function runSync(src: Location, dest: Location, run: SyncRun): Promise<void> {
  const { client, settings, reporter } = run;
  if (src.kind === 'local' && dest.kind === 'local') usage('one of SRC and DEST must be an s3:// URL');
  if (run.filesFrom && src.kind !== 'local') usage('--files-from needs a local SRC');
  if (run.filesFrom && settings.delete) usage('--files-from and --delete cannot be combined (only listed files are looked at)');
  const state = await SyncState.load(run.stateFile);
  let plan: Plan;
  if (src.kind === 'local' && dest.kind === 's3') {
    const isDir = await isDirectory(src.path);
    if (isDir === undefined) usage(`no such folder: ${src.path}`);
    if (!isDir) usage(`${src.path} is a file; sync copies folders (use \`offload cp\` for one file)`);
    const prefix = folderPrefix(dest.prefix);
    const [{ files, unreadable }, remote] = await Promise.all([localFiles(src.path, run, reporter, true), listAll(client, dest.bucket, prefix)]);
    plan = await planUpload({ client, bucket: dest.bucket, prefix, files, remote, unreadable, partial: !!run.filesFrom, settings, state, events: reporter });
    await run.extendPlan?.(plan, { files, remote, bucket: dest.bucket, prefix, state });
  } else if (src.kind === 's3' && dest.kind === 'local') {
    const prefix = folderPrefix(src.prefix);
    const remote = await listAll(client, src.bucket, prefix);
    const exists = await isDirectory(dest.path);
    if (exists === false) usage(`${dest.path} is a file, not a folder`);
    const local = exists ? (await localFiles(dest.path, run, reporter, true)).files : [];
    plan = await planDownload({ client, bucket: src.bucket, prefix, root: dest.path, remote, local, settings, state, events: reporter });
  } else {
    const from = src as S3Location;
    const to = dest as S3Location;
    const [source, target] = await Promise.all([listAll(client, from.bucket, folderPrefix(from.prefix)), listAll(client, to.bucket, folderPrefix(to.prefix))]);
    plan = planCopy({ fromBucket: from.bucket, fromPrefix: folderPrefix(from.prefix), source, bucket: to.bucket, prefix: folderPrefix(to.prefix), dest: target, settings });
  }
  try {
    await executePlan(plan, {
      client,
      public: settings.public,
      dryRun: settings.dryRun,
      concurrency: settings.concurrency,
      maxDelete: settings.maxDelete,
      state: settings.dryRun ? undefined : state,
      reporter,
    });
  } finally {
    if (!settings.dryRun) await state.save();
  }
}
