/** Options shared by the transfer commands (sync, put, cp) and the settings built from them. */
import { Option, type Command } from 'commander';
import { usage } from './errors.js';
import { MIN_PART } from './hash.js';
import { parsePositiveInt, parseSize } from './keys.js';
import type { SyncSettings } from './plan.js';
import { KeepRules, PathFilter, ValueRules, type FilterRule } from './rules.js';

export interface TransferOptions {
  public?: boolean;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  progress?: boolean;
  /** --exclude and --include share one ordered list. */
  exclude?: FilterRule[];
  include?: FilterRule[];
  cacheControl?: string[];
  contentType?: string[];
  concurrency: number;
  multipartThreshold: number;
  multipartChunksize?: number;
  followSymlinks?: boolean;
}

export interface SyncOptions extends TransferOptions {
  delete?: boolean;
  sizeOnly?: boolean;
  mtime?: boolean;
  maxDelete?: number;
  keep?: string[];
  filesFrom?: string;
  null?: boolean;
  checkHeaders?: boolean;
  state: string | boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Header, filter, concurrency, multipart and output options. */
export function addTransferOptions(cmd: Command, { filters = true } = {}): Command {
  // --include and --exclude share one ordered list: the last matching rule wins.
  const rules: FilterRule[] = [];
  if (filters) {
    cmd
      .addOption(new Option('--exclude <glob>', 'skip paths matching GLOB (repeatable, gitignore-style)').argParser((g: string) => (rules.push({ include: false, glob: g }), rules)))
      .addOption(new Option('--include <glob>', 'take paths matching GLOB even if excluded before (repeatable; last match wins)').argParser((g: string) => (rules.push({ include: true, glob: g }), rules)));
  }
  return cmd
    .option('--public', 'make objects readable by anyone (ACL public-read)')
    .option('--cache-control <glob=value>', "Cache-Control stored on matching paths, e.g. '*.html=no-cache' (repeatable, last match wins); 'GLOB=' (or '' for all) stores sync's default and removes other stored headers", collect)
    .option('--content-type <glob=type>', "Content-Type for matching paths, e.g. 'downloads/*=application/octet-stream' (repeatable)", collect)
    .option('--concurrency <n>', 'files transferred in parallel', parsePositiveInt('--concurrency'), 16)
    .addOption(new Option('--multipart-threshold <size>', 'files larger than this are sent in parallel parts').argParser(parseSize).default(16 * 1024 * 1024, '16MiB'))
    .option('--multipart-chunksize <size>', 'part size for multipart uploads (default: 8MiB, or the threshold if smaller; min 5MiB)', parseSize)
    .option('--follow-symlinks', 'follow symbolic links instead of skipping them')
    .option('-n, --dry-run', 'show what would change, change nothing')
    .option('--json', 'one JSON line per action on stdout, and a summary line')
    .option('-q, --quiet', 'print only errors and the summary')
    .option('--no-progress', 'no progress bar even on a terminal');
}

export function addSyncOptions(cmd: Command): Command {
  return addTransferOptions(cmd)
    .option('--delete', 'delete destination files that are not in the source (after all uploads succeed)')
    .option('--max-delete <n>', 'refuse to delete more than N files', parsePositiveInt('--max-delete'))
    .option('--keep <glob>', 'never delete destination paths matching GLOB (repeatable)', collect)
    .option('--size-only', 'compare sizes only (no hashing)')
    .option('--mtime', 'compare sizes and modification times instead of content hashes')
    .option('--check-headers', 'HEAD objects whose applied headers are unknown to the state file, to fix headers')
    .option('--files-from <file>', "sync only the paths listed in FILE ('-' for stdin), one per line, # comments")
    .option('-0, --null', '--files-from list is NUL-separated (find -print0)')
    .option('--state <file>', 'state file of hashes and applied headers (default: in ~/.cache/offload)')
    .option('--no-state', 'do not read or write a state file');
}

export function filterRules(opts: TransferOptions): FilterRule[] {
  return opts.exclude ?? opts.include ?? [];
}

export function buildSettings(opts: Partial<SyncOptions> & TransferOptions, extra: Partial<SyncSettings> = {}): SyncSettings {
  if (opts.sizeOnly && opts.mtime) usage('--size-only and --mtime cannot be used together');
  const chunkSize = opts.multipartChunksize ?? Math.max(MIN_PART, Math.min(8 * 1024 * 1024, opts.multipartThreshold));
  if (chunkSize < MIN_PART) usage('--multipart-chunksize must be at least 5MiB');
  if (opts.concurrency < 1) usage('--concurrency must be at least 1');
  if (opts.maxDelete !== undefined && !opts.delete) usage('--max-delete only makes sense with --delete');
  const cacheControl = new ValueRules(opts.cacheControl ?? [], '--cache-control', { allowEmpty: true });
  return {
    public: !!opts.public,
    delete: !!opts.delete,
    dryRun: !!opts.dryRun,
    sizeOnly: !!opts.sizeOnly,
    mtime: !!opts.mtime,
    force: false,
    // --cache-control '' (or GLOB=) removes stored headers: look at what is stored, not only at the state file.
    checkHeaders: !!opts.checkHeaders || cacheControl.clears,
    followSymlinks: !!opts.followSymlinks,
    maxDelete: opts.maxDelete,
    concurrency: opts.concurrency,
    multipart: { threshold: opts.multipartThreshold, chunkSize },
    rules: {
      cacheControl,
      contentType: new ValueRules(opts.contentType ?? [], '--content-type'),
    },
    filter: new PathFilter(filterRules(opts)),
    keep: new KeepRules(opts.keep ?? []),
    ...extra,
  };
}
