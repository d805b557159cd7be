/**
 * `offload rewrite`: points the media references of a built static site at the bucket, in place.
 * Only references that load media are changed (img/script/source/video/audio src, srcset, poster,
 * stylesheet/icon/preload links, inline and embedded CSS, CSS files); page links (`<a href>`,
 * iframes, forms) stay unless includePages.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { applyEdits, findCssRefs } from './css-refs.js';
import { cssUrlUse, findHtmlRefs, isMediaReference, type RefUse } from './html-refs.js';
import type { Manifest } from './manifest.js';
import { CSS_EXT, isInMediaFolder, listSiteFiles } from './site-files.js';
import { LineIndex, isNonFileUrl, joinBase, normalizeBase, splitSuffix, stripBase } from './urls.js';

export interface RewriteOptions {
  /** The built site folder. */
  dir: string;
  /** The local media base the pages use now, e.g. `/media/`. */
  from: string;
  /** The bucket's base URL, e.g. `https://media.example.com/`. */
  to: string;
  /** When given, URLs of files the manifest knows get their hashed key. */
  manifest?: Manifest;
  /** Globs (relative to dir) of files to leave alone. */
  exclude?: string[];
  /** Also rewrite `<a href>`, iframe src, form action pointing under `from`. */
  includePages?: boolean;
  dryRun?: boolean;
}

export interface RewriteChange {
  /** Path relative to dir. */
  file: string;
  line: number;
  old: string;
  new: string;
  use: RefUse;
}

export interface RewriteResult {
  changes: RewriteChange[];
  filesChanged: string[];
  /** E.g. media files the manifest does not know. */
  warnings: string[];
}

interface Found {
  value: string;
  start: number;
  end: number;
  use: RefUse;
}

export async function rewriteSite(opts: RewriteOptions): Promise<RewriteResult> {
  const from = normalizeBase(opts.from);
  const result: RewriteResult = { changes: [], filesChanged: [], warnings: [] };
  const fromIsPath = from.startsWith('/');
  for (const file of await listSiteFiles(opts.dir, opts.exclude)) {
    // The media folder is uploaded as it is: editing it would change what `sync --hash` sends.
    if (isInMediaFolder(file, from)) continue;
    const full = join(opts.dir, file);
    const text = await readFile(full, 'utf8');
    const isCss = CSS_EXT.test(file);
    const found: Found[] = isCss
      ? findCssRefs(text).map((r) => ({ value: r.value, start: r.start, end: r.end, use: cssUrlUse(r.value, r.kind) }))
      : findHtmlRefs(text);
    const lines = new LineIndex(text);
    const edits: { start: number; end: number; replacement: string }[] = [];
    for (const ref of found) {
      if (!isMediaReference(ref.use, opts.includePages)) continue;
      if (isNonFileUrl(ref.value)) continue;
      let url = ref.value;
      if (fromIsPath && !/^[a-z][a-z0-9+.-]*:|^\//i.test(url)) url = posix.join('/', posix.dirname(file), url);
      const stripped = stripBase(url, from);
      if (!stripped || stripped.key === '') continue;
      const entry = opts.manifest?.files[stripped.key];
      if (opts.manifest && !entry) result.warnings.push(`${file}:${lines.lineOf(ref.start)}: ${stripped.key} is not in the manifest; using the unhashed URL`);
      const raw = text.slice(ref.start, ref.end);
      const replacement = joinBase(opts.to, entry?.key ?? stripped.key) + splitSuffix(raw).suffix;
      if (replacement === raw) continue;
      edits.push({ start: ref.start, end: ref.end, replacement });
      result.changes.push({ file, line: lines.lineOf(ref.start), old: raw, new: replacement, use: ref.use });
    }
    if (edits.length === 0) continue;
    result.filesChanged.push(file);
    if (!opts.dryRun) await writeFile(full, applyEdits(text, edits));
  }
  return result;
}
