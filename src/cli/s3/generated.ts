/**
 * Generated objects added to an upload plan: content-hashed copies and the manifest (`--hash`,
 * `--hash-only`, `--keep-hashed`, `--manifest-out`) and precompressed siblings (`--precompress`).
 * Shared by `sync` and `put`. The manifest and the deletions run in a second step, after every
 * other transfer succeeded, so a published manifest never names a missing object.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { usage } from './errors.js';
import { executePlan } from './execute.js';
import { hashSet, manifestUpload, mergeManifest, planRetirement, readRemoteManifest } from './hashed.js';
import { keyFor, relFromKey } from './keys.js';
import { addGeneratedUpload, type DeleteAction, type Plan, type SyncSettings, type UploadAction } from './plan.js';
import { planSiblings, siblingsIn, SIBLING_SUFFIXES, type SiblingTarget } from './precompress.js';
import type { RemoteObject } from './remote.js';
import type { Reporter } from './report.js';
import type { SyncState } from './state.js';
import { cacheControlFor, IMMUTABLE } from './rules.js';
import { MANIFEST_NAME, parseDuration } from '../../templates/manifest.js';

export interface GeneratedOptions {
  hash?: boolean;
  hashOnly?: boolean;
  keepHashed?: string;
  hashBase?: string;
  manifestOut?: string;
  precompress?: boolean;
}

export function addGeneratedOptions(cmd: Command, { sync }: { sync: boolean }): Command {
  cmd
    .option('--hash', 'also upload content-hashed copies (css/site.3f2a9c1b.css, immutable) and offload-manifest.json')
    .option('--hash-only', 'upload only the hashed copies and the manifest, not the originals (implies --hash)')
    .option('--hash-base <url>', "where the files were served from locally (e.g. '/media/'): references written against it are rewritten too");
  if (sync) cmd.option('--keep-hashed <duration>', 'with --delete: keep replaced hashed objects this long after they were replaced (default: 7d)');
  return cmd
    .option('--manifest-out <file>', 'also write the manifest to FILE (for the app server)')
    .option('--precompress', 'also upload KEY.br and KEY.gz of text files (css, js, svg, json, html, ...) when smaller');
}

export interface Generated {
  hash: boolean;
  hashOnly: boolean;
  graceMs: number;
  base?: string;
  manifestOut?: string;
  precompress: boolean;
}

export function generatedSettings(opts: GeneratedOptions): Generated {
  const hash = !!opts.hash || !!opts.hashOnly;
  if (!hash && opts.keepHashed !== undefined) usage('--keep-hashed only makes sense with --hash');
  if (!hash && opts.manifestOut !== undefined) usage('--manifest-out only makes sense with --hash');
  if (!hash && opts.hashBase !== undefined) usage('--hash-base only makes sense with --hash');
  let graceMs = 7 * 86_400_000;
  if (opts.keepHashed !== undefined) {
    try {
      graceMs = parseDuration(opts.keepHashed);
    } catch (err) {
      usage(`--keep-hashed: ${(err as Error).message}`);
    }
  }
  return { hash, hashOnly: !!opts.hashOnly, graceMs, base: opts.hashBase, manifestOut: opts.manifestOut, precompress: !!opts.precompress };
}

export function isActive(g: Generated): boolean {
  return g.hash || g.precompress;
}

/** What runs after the main plan: the manifest upload and (with --hash) the deletions. */
export interface Later {
  manifest?: UploadAction;
  manifestText?: string;
  deletions: DeleteAction[];
}

interface Context {
  client: S3Client;
  settings: SyncSettings;
  reporter: Reporter;
  g: Generated;
}

/** A local file as planning saw it. */
interface Local {
  rel: string;
  path: string;
  size: number;
  mtimeMs?: number;
}

/**
 * Adds the generated objects to a plan. `remote` is the destination listing (sync) or undefined
 * (put: nothing is compared, the manifest is merged into the bucket's instead of replacing it).
 */
export async function extendWithGenerated(plan: Plan, seen: { files: Local[]; remote?: RemoteObject[]; bucket: string; prefix: string; state?: SyncState }, ctx: Context): Promise<Later> {
  const { client, settings, reporter, g } = ctx;
  const { bucket, prefix } = seen;
  const remote = new Map((seen.remote ?? []).map((o) => [o.key, o]));
  const protect = new Set<string>();
  const extraDeletes: string[] = [];
  const later: Later = { deletions: [] };
  const targets: SiblingTarget[] = [];
  let originals = seen.files;
  const mtimeOf = new Map(seen.files.map((f) => [f.path, f.mtimeMs]));

  if (g.hash) {
    const out = await hashSet({ client, bucket, prefix, files: new Map(seen.files.map((f) => [f.rel, f.path])), settings, events: reporter, base: g.base });
    const manifestKey = keyFor(prefix, MANIFEST_NAME);
    const prev = !seen.remote || remote.has(manifestKey) ? await readRemoteManifest(client, bucket, manifestKey, reporter) : {};
    for (const c of out.copies) {
      protect.add(c.key);
      const existing = remote.get(c.key);
      // Same key means same bytes: existence at the right size is enough.
      if (seen.remote && existing?.size === c.file.size) plan.skipped++;
      else addGeneratedUpload(plan, { ...c.action, change: existing ? 'updated' : 'created' });
      const source = c.action.source.kind === 'buffer' ? c.action.source : { kind: 'file' as const, path: c.file.path, mtimeMs: mtimeOf.get(c.file.path) };
      targets.push({ key: c.key, rel: c.file.hashedKey, size: c.file.size, cacheControl: IMMUTABLE, source });
    }
    if (g.hashOnly) {
      const hashed = new Set(out.copies.map((c) => keyFor(prefix, c.file.logicalPath)));
      originals = seen.files.filter((f) => !hashed.has(keyFor(prefix, f.rel)));
      plan.transfers = plan.transfers.filter((t) => t.op === 'download' || !hashed.has(t.key));
      if (settings.delete) for (const key of hashed) if (remote.has(key)) extraDeletes.push(key);
    }
    let manifest = out.manifest;
    if (seen.remote) {
      const retirement = planRetirement({ remote: seen.remote, prefix, next: manifest, previous: prev.manifest, graceMs: g.graceMs });
      for (const key of retirement.keep) for (const k of [key, ...SIBLING_SUFFIXES.map((s) => key + s)]) protect.add(k);
      manifest = { ...manifest, retired: retirement.retired };
    } else {
      manifest = mergeManifest(prev.manifest, manifest);
    }
    protect.add(manifestKey);
    plan.transfers = plan.transfers.filter((t) => t.op === 'download' || t.key !== manifestKey);
    const m = manifestUpload(bucket, manifestKey, manifest, prev.text);
    if (!m.action) plan.skipped++;
    later.manifest = m.action;
    later.manifestText = m.text;
    originals = originals.filter((f) => f.rel !== MANIFEST_NAME);
  }

  if (g.precompress) {
    for (const f of originals) {
      targets.push({ key: keyFor(prefix, f.rel), rel: f.rel, size: f.size, cacheControl: cacheControlFor(settings.rules, f.rel), source: { kind: 'file', path: f.path, mtimeMs: f.mtimeMs } });
    }
    const sib = await planSiblings({ client, bucket, targets, remote, concurrency: settings.concurrency, events: reporter, state: seen.state });
    reporter.compressed(sib.compressed);
    for (const u of sib.uploads) addGeneratedUpload(plan, u);
    for (const k of sib.wanted) protect.add(k);
    extraDeletes.push(...sib.stale);
    plan.skipped += sib.skipped;
  } else {
    // A sibling left by an earlier --precompress run would serve the old bytes of a changed file.
    for (const t of plan.transfers) if (t.op === 'upload') extraDeletes.push(...siblingsIn(remote, t.key));
  }

  plan.deletions = plan.deletions.filter((d) => d.target !== 's3' || !protect.has(d.key));
  // Local files are uploaded as they are (except the originals --hash-only leaves out): not deletable.
  const localKeys = new Set(originals.map((f) => keyFor(prefix, f.rel)));
  const planned = new Set(plan.deletions.map((d) => (d.target === 's3' ? d.key : '')));
  for (const key of extraDeletes) {
    if (protect.has(key) || localKeys.has(key) || planned.has(key)) continue;
    if (settings.keep.keeps(relFromKey(prefix, key) ?? key)) continue;
    planned.add(key);
    plan.deletions.push({ op: 'delete', change: 'deleted', target: 's3', bucket, key, rel: relFromKey(prefix, key) ?? key });
  }
  if (g.hash) {
    later.deletions = plan.deletions;
    plan.deletions = [];
  }
  return later;
}

/** Runs the second step (manifest, then deletions) unless something failed, and writes --manifest-out. */
export async function runLater(later: Later, failedBefore: number, ctx: Context): Promise<void> {
  const { reporter, settings, g } = ctx;
  if (!g.hash) return;
  reporter.stop();
  if (reporter.failed > failedBefore) {
    const what = [later.manifest ? 'not uploading the manifest' : '', later.deletions.length ? `not deleting ${later.deletions.length} file(s)` : ''].filter(Boolean);
    if (what.length) reporter.warn(`${what.join(', ')} because some transfers failed`);
    return;
  }
  const plan: Plan = { transfers: later.manifest ? [later.manifest] : [], deletions: later.deletions, skipped: 0 };
  const failed = reporter.failed;
  await executePlan(plan, { client: ctx.client, public: settings.public, dryRun: settings.dryRun, concurrency: settings.concurrency, maxDelete: settings.maxDelete, reporter });
  if (g.manifestOut && !settings.dryRun && reporter.failed === failed && later.manifestText !== undefined) {
    await writeFile(g.manifestOut, later.manifestText);
  }
}
