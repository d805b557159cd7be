/**
 * `offload check`: finds every reference to the media base in a built site (or in pages fetched from
 * a running app) and verifies each object exists, is publicly readable, and has a Content-Type that
 * fits its use. Flags bucket URLs used as pages and references still pointing at the old media path.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { findCssRefs } from './css-refs.js';
import { cssUrlUse, findHtmlRefs, isMediaReference, type RefUse } from './html-refs.js';
import { contentTypeProblem, locateObject, probe, type FetchLike, type ProbeResult } from './probe.js';
import { CSS_EXT, isInMediaFolder, listSiteFiles } from './site-files.js';
import { LineIndex, isNonFileUrl, normalizeBase, stripBase } from './urls.js';

export interface CheckOptions {
  /** A built site folder, or an http(s) URL of a page of a running app. */
  target: string;
  /** The media base the pages should use, e.g. `https://media.example.com/`. */
  base: string;
  /** S3 endpoint: objects are probed there (path-style) instead of at their public URL. */
  endpoint?: string;
  /** With endpoint: the bucket behind a base that is not itself `ENDPOINT/bucket/` (custom domain). */
  bucket?: string;
  prefix?: string;
  /** The local media path the site used before, default `/media/`. */
  oldBase?: string;
  exclude?: string[];
  /** Extra pages to fetch in URL mode. */
  pages?: string[];
  fetch?: FetchLike;
  /**
   * Optional authenticated look-up (the CLI passes one when S3 credentials are in the environment):
   * tells a missing object from a private one when the anonymous request gets 403.
   */
  objectExists?: (bucket: string, key: string) => Promise<boolean | undefined>;
}

export interface CheckProblem {
  file: string;
  line: number;
  severity: 'error' | 'warning';
  code: 'missing' | 'forbidden' | 'unreachable' | 'http-status' | 'content-type' | 'page-in-bucket' | 'old-base';
  url: string;
  use: RefUse;
  message: string;
  bucket?: string;
  key?: string;
}

export interface CheckResult {
  problems: CheckProblem[];
  /** Bucket references checked (occurrences). */
  references: number;
  objects: number;
  documents: string[];
}

interface Doc {
  name: string;
  /** URL the document's relative references resolve against (URL mode, bucket CSS). */
  url?: string;
  /** Site-relative path (folder mode). */
  sitePath?: string;
  text: string;
  css: boolean;
}

interface Ref {
  doc: Doc;
  line: number;
  value: string;
  use: RefUse;
  tag?: string;
}

export async function checkSite(opts: CheckOptions): Promise<CheckResult> {
  const base = normalizeBase(opts.base);
  const oldBase = opts.oldBase === undefined ? '/media/' : opts.oldBase ? normalizeBase(opts.oldBase) : '';
  const doFetch = opts.fetch ?? fetch;
  const isUrl = /^https?:\/\//i.test(opts.target);
  const problems: CheckProblem[] = [];
  const documents: string[] = [];
  const queue: Doc[] = [];
  const seenDocs = new Set<string>();
  const probes = new Map<string, Promise<ProbeResult>>();
  let references = 0;

  /** Reads a document to scan; `fetchUrl` is where to get it when that differs from its public URL (bucket objects via --endpoint). */
  const fetchDoc = async (url: string, css: boolean, from?: Ref, fetchUrl = url): Promise<void> => {
    if (seenDocs.has(url)) return;
    seenDocs.add(url);
    const res = await probe(fetchUrl, { fetch: doFetch, body: true });
    if (res.body !== undefined) queue.push({ name: url, url, text: res.body, css });
    else if (!from) throw new Error(`cannot fetch ${url}: ${res.error ?? `HTTP ${res.status}`}`);
  };

  if (isUrl) {
    for (const page of [opts.target, ...(opts.pages ?? [])]) await fetchDoc(page, false);
  } else {
    for (const file of await listSiteFiles(opts.target, opts.exclude)) {
      // The local copy of the media folder itself is not a page of the site.
      if (isInMediaFolder(file, oldBase)) continue;
      seenDocs.add(file);
      queue.push({ name: file, sitePath: `/${file}`, text: await readFile(join(opts.target, file), 'utf8'), css: CSS_EXT.test(file) });
    }
  }

  const problem = (ref: Ref, p: Omit<CheckProblem, 'file' | 'line' | 'use' | 'url'> & { url?: string }) =>
    problems.push({ file: ref.doc.name, line: ref.line, use: ref.use, url: p.url ?? ref.value, ...p });

  while (queue.length > 0) {
    const doc = queue.shift()!;
    documents.push(doc.name);
    const lines = new LineIndex(doc.text);
    const refs: Ref[] = (doc.css
      ? findCssRefs(doc.text).map((r) => ({ value: r.value, start: r.start, use: cssUrlUse(r.value, r.kind) as RefUse, tag: undefined }))
      : findHtmlRefs(doc.text).map((r) => ({ value: r.value, start: r.start, use: r.use, tag: r.tag }))
    )
      .filter((r) => !isNonFileUrl(r.value))
      .map((r) => ({ doc, line: lines.lineOf(r.start), value: r.value, use: r.use, tag: r.tag }));

    const pending: Promise<void>[] = [];
    for (const ref of refs) {
      const absolute = resolveAgainst(ref.value, doc);
      const inBucket = stripBase(absolute, base);
      if (!inBucket) {
        // Page links and frames rightly stay on the app (rewrite leaves them): only media must have moved.
        if (oldBase && oldBase !== base && isMediaReference(ref.use) && pointsAtOldBase(absolute, oldBase, doc)) {
          problem(ref, { severity: 'error', code: 'old-base', message: `still points at the old media path ${oldBase}: ${ref.value}` });
        }
        // Stylesheets served by the app itself may reference the bucket: read them too (URL mode).
        if (isUrl && ref.use === 'stylesheet' && /^https?:/i.test(absolute)) pending.push(fetchDoc(absolute, true, ref));
        continue;
      }
      references++;
      pending.push(checkBucketRef(ref, absolute));
    }
    await Promise.all(pending);
  }

  async function checkBucketRef(ref: Ref, url: string): Promise<void> {
    const loc = locateObject(url, base, { endpoint: opts.endpoint, bucket: opts.bucket, prefix: opts.prefix });
    const where = loc.bucket !== undefined ? ` (bucket ${loc.bucket}, key ${loc.key})` : '';
    const objectUrl = loc.url.split('#')[0] ?? loc.url;
    if (!probes.has(objectUrl)) probes.set(objectUrl, probe(objectUrl, { fetch: doFetch }));
    const res = await probes.get(objectUrl)!;
    const extra = { url, bucket: loc.bucket, key: loc.key };
    const type = (res.contentType.split(';')[0] ?? '').trim().toLowerCase();
    if (ref.use === 'frame') {
      problem(ref, { ...extra, severity: 'error', code: 'page-in-bucket', message: `<${ref.tag ?? 'iframe'}> loads ${url} from the bucket: pages must stay on the app server` });
      return;
    }
    if (res.status === 0) return void problem(ref, { ...extra, severity: 'error', code: 'unreachable', message: `cannot fetch ${url}${where}: ${res.error ?? 'network error'}` });
    if (res.status === 404) return void problem(ref, { ...extra, severity: 'error', code: 'missing', message: `${url} does not exist${where}` });
    if ((res.status === 403 || res.status === 401) && loc.bucket !== undefined && loc.key !== undefined && opts.objectExists) {
      if ((await opts.objectExists(loc.bucket, loc.key).catch(() => undefined)) === false) {
        return void problem(ref, { ...extra, severity: 'error', code: 'missing', message: `${url} does not exist${where}` });
      }
      return void problem(ref, { ...extra, severity: 'error', code: 'forbidden', message: `${url} is not publicly readable (HTTP ${res.status})${where}` });
    }
    if (res.status === 403 || res.status === 401) {
      return void problem(ref, { ...extra, severity: 'error', code: 'forbidden', message: `${url} is not publicly readable (HTTP ${res.status})${where}; a missing object also answers 403 when listing is not public` });
    }
    if (res.status < 200 || res.status >= 300) return void problem(ref, { ...extra, severity: 'error', code: 'http-status', message: `${url} answers HTTP ${res.status}${where}` });
    if (type === 'text/html' || type === 'application/xhtml+xml') {
      const what = ref.use === 'page' ? 'links to an HTML page in the bucket' : `is used as ${ref.use} but is an HTML page`;
      return void problem(ref, { ...extra, severity: 'error', code: 'page-in-bucket', message: `${url} ${what}: pages must stay on the app server` });
    }
    const fit = contentTypeProblem(ref.use, res.contentType);
    if (fit) problem(ref, { ...extra, severity: fit.severity, code: 'content-type', message: `${url} ${fit.message}` });
    // Follow stylesheets in the bucket: their fonts and images must be there too.
    if (ref.use === 'stylesheet' && type === 'text/css') await fetchDoc(url.split('#')[0] ?? url, true, ref, objectUrl);
  }

  problems.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  return { problems, references, objects: probes.size, documents };
}

/** Makes a reference absolute where its document allows: a URL for fetched documents, a site path for files. */
function resolveAgainst(value: string, doc: Doc): string {
  const v = value.trim();
  if (doc.url) {
    try {
      return new URL(v, doc.url).href;
    } catch {
      return v;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(v) || v.startsWith('/')) return v;
  return posix.join(posix.dirname(doc.sitePath ?? '/'), v);
}

function pointsAtOldBase(absolute: string, oldBase: string, doc: Doc): boolean {
  if (/^https?:\/\//i.test(oldBase)) return absolute.startsWith(oldBase);
  if (doc.url) {
    try {
      const u = new URL(absolute);
      return u.origin === new URL(doc.url).origin && u.pathname.startsWith(oldBase);
    } catch {
      return false;
    }
  }
  return absolute.startsWith(oldBase);
}

/** `file:line: message` lines for the terminal. */
export function formatProblem(p: CheckProblem): string {
  return `${p.file}:${p.line}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}
