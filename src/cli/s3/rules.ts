/**
 * Path rules from the command line, matched gitignore-style against paths relative to the sync
 * root: include/exclude filters (last match wins), --keep, --cache-control and --content-type.
 */
import picomatch from 'picomatch';
import { usage } from './errors.js';

export type PathMatcher = (rel: string) => boolean;

/**
 * Compiles a gitignore-style glob: without a slash it matches a name at any depth, with one it is
 * anchored to the root; a trailing slash matches only folders; matching a folder matches all inside.
 */
export function compileGlob(glob: string): PathMatcher {
  let p = glob.trim().normalize('NFC');
  if (p === '') usage('empty glob');
  const dirOnly = p.endsWith('/');
  p = p.replace(/\/+$/, '');
  const anchored = p.startsWith('/') || p.includes('/');
  p = p.replace(/^\/+/, '');
  if (!anchored && !p.startsWith('**/')) p = '**/' + p;
  const isMatch = picomatch(p, { dot: true });
  return (rel: string) => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (isMatch(parts.slice(0, i).join('/'))) return true;
    return !dirOnly && isMatch(rel);
  };
}

export interface FilterRule {
  include: boolean;
  glob: string;
}

/** Include/exclude rules in command-line order; the last one matching decides. */
export class PathFilter {
  private readonly rules: { include: boolean; match: PathMatcher }[];
  constructor(rules: FilterRule[]) {
    this.rules = rules.map((r) => ({ include: r.include, match: compileGlob(r.glob) }));
  }
  get empty(): boolean {
    return this.rules.length === 0;
  }
  includes(rel: string): boolean {
    let included = true;
    for (const rule of this.rules) if (rule.match(rel)) included = rule.include;
    return included;
  }
}

/**
 * `GLOB=VALUE` rules: the last matching one gives the value. With `allowEmpty`, `GLOB=` gives the
 * empty value and a bare `''` is the same for every path (see cacheControlFor).
 */
export class ValueRules {
  private readonly rules: { match: PathMatcher; value: string }[];
  readonly source: string[];
  constructor(specs: string[], optionName: string, { allowEmpty = false } = {}) {
    this.source = specs;
    this.rules = specs.map((spec) => {
      if (allowEmpty && spec.trim() === '') return { match: () => true, value: '' };
      const i = spec.indexOf('=');
      if (i <= 0 || (i === spec.length - 1 && !allowEmpty)) usage(`${optionName} expects GLOB=VALUE, got ${JSON.stringify(spec)}`);
      return { match: compileGlob(spec.slice(0, i)), value: spec.slice(i + 1).trim() };
    });
  }
  /** Whether some rule gives the empty value (asks to remove what is stored). */
  get clears(): boolean {
    return this.rules.some((r) => r.value === '');
  }
  valueFor(rel: string): string | undefined {
    let value: string | undefined;
    for (const rule of this.rules) if (rule.match(rel)) value = rule.value;
    return value;
  }
}

export class KeepRules {
  private readonly matchers: PathMatcher[];
  constructor(globs: string[]) {
    this.matchers = globs.map(compileGlob);
  }
  keeps(rel: string): boolean {
    return this.matchers.some((m) => m(rel));
  }
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';

function looksLikeHash(token: string): boolean {
  if (token.length < 8 || token.length > 64) return false;
  if (/^[0-9a-f]+$/.test(token)) return /[0-9]/.test(token) && /[a-f]/.test(token);
  if (/^[0-9A-F]+$/.test(token)) return /[0-9]/.test(token) && /[A-F]/.test(token);
  if (!/^[A-Za-z0-9_-]+$/.test(token) || token.length > 32) return false;
  // base64url-style hashes (Vite, Rollup, esbuild). When unsure, say no: a missed hash only costs
  // caching, a false one serves stale files for a year.
  if (/^[A-Z0-9]{8}$/.test(token)) return /[0-9]/.test(token) && /[A-Z]/.test(token); // esbuild: 5KQ2ZYXB
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token)) return false;
  if (/^([A-Z]?[a-z]+)+[0-9]*$/.test(token)) return false; // SemiBold, ExtraLight2
  return !/[a-z]{5,}/i.test(token.replace(/[0-9_-]/g, ' ')); // no long word runs: "v30", "latin" style names
}

/**
 * True for content-hashed file names such as `app.3f2a9c1b.js`, `index-DiwrgTda.js`,
 * `chunk-5KQ2ZYXB.mjs` or `logo.a1b2c3d4e5.svg`.
 */
export function isContentHashed(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return false;
  let stem = base.slice(0, dot);
  if (/\.(js|css|mjs)$/i.test(stem)) stem = stem.replace(/\.(js|css|mjs)$/i, ''); // app.abc123.js.map
  for (let i = 1; i < stem.length; i++) {
    const c = stem[i];
    if (c !== '.' && c !== '-' && c !== '_') continue;
    const rest = stem.slice(i + 1);
    const token = c === '.' ? rest.split('.')[0] ?? '' : rest.split('.')[0] ?? '';
    if (looksLikeHash(token)) return true;
  }
  return false;
}

export interface HeaderRules {
  cacheControl: ValueRules;
  contentType: ValueRules;
}

/**
 * The Cache-Control sync stores for a path, or undefined for none: the last matching --cache-control
 * rule, else immutable for a content-hashed name, else none, so that the server's cache rules (or
 * its default for the type) answer. A rule with an empty value is "no rule" for its paths.
 * See docs/cli.md, "Cache-Control".
 */
export function cacheControlFor(rules: HeaderRules, rel: string): string | undefined {
  const explicit = rules.cacheControl.valueFor(rel);
  if (explicit) return explicit;
  return isContentHashed(rel) ? IMMUTABLE : undefined;
}
