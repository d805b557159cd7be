/** Small URL and text-position helpers shared by hashing, rewrite and check. */
import { posix } from 'node:path';

/** Ensures a base ends with exactly one `/`. */
export function normalizeBase(base: string): string {
  if (!base) throw new Error('media base must not be empty');
  return base.endsWith('/') ? base : `${base}/`;
}

/** base + key, with each key segment percent-encoded where needed. */
export function joinBase(base: string, key: string): string {
  return normalizeBase(base) + encodeKey(key);
}

export function encodeKey(key: string): string {
  return key.split('/').map((s) => encodeURIComponent(s).replace(/%40/g, '@').replace(/%2B/g, '+')).join('/');
}

/** Splits `a/b.png?v=1#x` into path `a/b.png` and suffix `?v=1#x`. */
export function splitSuffix(url: string): { path: string; suffix: string } {
  const i = url.search(/[?#]/);
  return i < 0 ? { path: url, suffix: '' } : { path: url.slice(0, i), suffix: url.slice(i) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/** True for URLs that never name a file of the site: data:, blob:, mailto:, fragments, templating placeholders. */
export function isNonFileUrl(url: string): boolean {
  const u = url.trim();
  return u === '' || u.startsWith('#') || /^(data|blob|mailto|tel|javascript|about):/i.test(u) || /[{}]{2}|<%|\$\{/.test(u);
}

/**
 * If `url` points under `base` (a path like `/media/` or a full URL like `https://media.example.com/`),
 * returns the key below the base (decoded, without query/fragment) and the suffix.
 */
export function stripBase(url: string, base: string): { key: string; suffix: string } | undefined {
  const b = normalizeBase(base);
  let u = url.trim();
  if (/^https?:\/\//i.test(b)) {
    const bu = new URL(b);
    if (u.startsWith('//')) u = bu.protocol + u;
    if (!/^https?:\/\//i.test(u)) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      return undefined;
    }
    if (parsed.host !== bu.host || !parsed.pathname.startsWith(bu.pathname)) return undefined;
    return { key: safeDecode(parsed.pathname.slice(bu.pathname.length)), suffix: parsed.search + parsed.hash };
  }
  if (!u.startsWith(b)) return undefined;
  const { path, suffix } = splitSuffix(u.slice(b.length));
  return { key: safeDecode(path), suffix };
}

/**
 * Maps a reference written in file `from` (a logical path of the media set) to a logical path:
 * relative references resolve against the file's folder, base-absolute ones (`/media/x.png`,
 * `https://media.example.com/x.png`) strip the base. Anything else gives undefined.
 */
export function resolveRef(url: string, from: string, base?: string): { logicalPath: string; suffix: string } | undefined {
  if (isNonFileUrl(url)) return undefined;
  if (base) {
    const stripped = stripBase(url, base);
    if (stripped) return { logicalPath: stripped.key, suffix: stripped.suffix };
  }
  if (SCHEME.test(url) || url.startsWith('/')) return undefined;
  const { path, suffix } = splitSuffix(url);
  if (!path) return undefined;
  const joined = posix.normalize(posix.join(posix.dirname(from), safeDecode(path)));
  if (joined.startsWith('../') || joined === '..') return undefined;
  return { logicalPath: joined.replace(/^\.\//, ''), suffix };
}

/** Replaces the last path segment of `url` (keeping query/fragment) with `name`. */
export function replaceBasename(url: string, name: string): string {
  const { path, suffix } = splitSuffix(url);
  const slash = path.lastIndexOf('/');
  return path.slice(0, slash + 1) + encodeURIComponent(name).replace(/%40/g, '@') + suffix;
}

/** Converts character offsets to 1-based line numbers. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
