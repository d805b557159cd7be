/**
 * Local file discovery: a recursive walk of a folder, or a list of paths (--files-from / stdin).
 * Names become NFC keys with forward slashes; symlinks are skipped with a note unless followed;
 * unreadable entries are reported and the walk goes on.
 */
import { lstat, readdir, realpath, stat, readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { describeError } from './errors.js';
import type { PathFilter } from './rules.js';

export interface LocalFile {
  /** Path relative to the root: NFC, forward slashes. */
  rel: string;
  /** Path on disk. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface WalkOptions {
  filter?: PathFilter;
  followSymlinks?: boolean;
  /** A note that is not an error (skipped symlink, duplicate name). */
  warn: (message: string) => void;
  /** Something that could not be read; the walk continues. */
  fail: (path: string, message: string) => void;
}

function toRel(root: string, path: string): string {
  return relative(root, path).split(sep).join('/').normalize('NFC');
}

class Collector {
  readonly files = new Map<string, LocalFile>();
  private readonly lowerCase = new Map<string, string>();
  constructor(private readonly opts: WalkOptions) {}

  add(file: LocalFile): void {
    if (this.opts.filter && !this.opts.filter.includes(file.rel)) return;
    const existing = this.files.get(file.rel);
    if (existing) {
      this.opts.warn(`skipping ${file.path}: same key as ${existing.path} after Unicode normalisation (${file.rel})`);
      return;
    }
    this.files.set(file.rel, file);
    const lower = file.rel.toLowerCase();
    const other = this.lowerCase.get(lower);
    if (other !== undefined) this.opts.warn(`keys differ only by case: ${other} and ${file.rel} (they collide on case-insensitive systems)`);
    else this.lowerCase.set(lower, file.rel);
  }
}

/** Walks root and returns its files, sorted by key. */
export async function walkFolder(root: string, opts: WalkOptions): Promise<LocalFile[]> {
  const collector = new Collector(opts);
  const seenDirs = new Set<string>();
  try {
    seenDirs.add(await realpath(root));
  } catch (err) {
    throw new Error(`cannot read ${root}: ${describeError(err)}`);
  }

  async function visit(dir: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      opts.fail(dir, describeError(err));
      return;
    }
    names.sort();
    const subdirs: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const path = join(dir, name);
        const kind = await classify(path, opts);
        if (kind === 'dir') {
          if (opts.followSymlinks) {
            const real = await realpath(path).catch(() => path);
            if (seenDirs.has(real)) {
              opts.warn(`skipping ${path}: symlink loop`);
              return;
            }
            seenDirs.add(real);
          }
          subdirs.push(path);
        } else if (kind) {
          collector.add({ rel: toRel(root, path), path, size: kind.size, mtimeMs: kind.mtimeMs });
        }
      }),
    );
    subdirs.sort();
    for (const sub of subdirs) await visit(sub);
  }

  await visit(root);
  return [...collector.files.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** 'dir', the file's stats, or undefined (skipped, with a note or an error already reported). */
async function classify(path: string, opts: WalkOptions): Promise<'dir' | Stats | undefined> {
  let st: Stats;
  try {
    st = await lstat(path);
    if (st.isSymbolicLink()) {
      if (!opts.followSymlinks) {
        opts.warn(`skipping symlink ${path} (use --follow-symlinks to follow it)`);
        return undefined;
      }
      st = await stat(path);
    }
  } catch (err) {
    opts.fail(path, describeError(err));
    return undefined;
  }
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return st;
  opts.warn(`skipping ${path}: not a regular file`);
  return undefined;
}

/** Splits a --files-from list: lines (with # comments) or NUL-separated names. */
export function splitList(text: string, nulSeparated: boolean): string[] {
  if (nulSeparated) return text.split('\0').filter((p) => p !== '');
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
}

/** Reads a list file, or standard input for '-'. */
export async function readList(source: string, nulSeparated: boolean): Promise<string[]> {
  const text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
  return splitList(text, nulSeparated);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Files named in a list, relative to root (folders are walked). Paths outside root are errors.
 */
export async function listedFiles(root: string, paths: string[], opts: WalkOptions): Promise<LocalFile[]> {
  const collector = new Collector(opts);
  for (const given of paths) {
    const path = isAbsolute(given) ? given : resolve(root, given);
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      opts.fail(given, `outside ${root}; keys are relative to it`);
      continue;
    }
    const kind = await classify(path, opts);
    if (kind === 'dir') {
      for (const f of await walkFolder(path, { ...opts, filter: undefined })) {
        collector.add({ ...f, rel: toRel(root, f.path) });
      }
    } else if (kind) {
      collector.add({ rel: toRel(root, path), path, size: kind.size, mtimeMs: kind.mtimeMs });
    }
  }
  return [...collector.files.values()];
}
