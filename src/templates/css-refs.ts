/**
 * Finds the references a CSS (or JS) text makes to other files: `url(...)`, `@import "..."` and
 * `sourceMappingURL` comments, with the exact character range of each URL so it can be replaced
 * in place without touching anything else.
 */

export type CssRefKind = 'url' | 'import' | 'sourcemap';

export interface TextRef {
  /** The URL as written (quotes and escapes removed). */
  value: string;
  /** Range of the URL text inside the source (excluding quotes). */
  start: number;
  end: number;
  kind: CssRefKind;
}

const SOURCE_MAP = /[/][/*][#@]\s*sourceMappingURL=([^\s*'"]+)/g;

/** References in a stylesheet. Comments are skipped, except a sourceMappingURL comment. */
export function findCssRefs(css: string, offset = 0): TextRef[] {
  const refs: TextRef[] = [];
  let i = 0;
  const n = css.length;
  while (i < n) {
    const ch = css[i];
    if (ch === '/' && css[i + 1] === '*') {
      const close = css.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      const m = /^\/\*[#@]\s*sourceMappingURL=([^\s*]+)/.exec(css.slice(i, end));
      if (m?.[1]) {
        const start = i + m[0].length - m[1].length;
        refs.push({ value: m[1], start: start + offset, end: start + m[1].length + offset, kind: 'sourcemap' });
      }
      i = end;
      continue;
    }
    if (ch === '"' || ch === "'") {
      i = skipString(css, i);
      continue;
    }
    if ((ch === 'u' || ch === 'U') && /^url\(/i.test(css.slice(i, i + 4)) && !isIdentChar(css[i - 1])) {
      const ref = readUrlFunction(css, i + 4);
      if (ref) {
        refs.push({ ...ref, start: ref.start + offset, end: ref.end + offset, kind: 'url' });
        i = ref.after;
        continue;
      }
    }
    if (ch === '@' && /^@import\b/i.test(css.slice(i, i + 8))) {
      let j = i + 7;
      while (j < n && /\s/.test(css[j] ?? '')) j++;
      const q = css[j];
      if (q === '"' || q === "'") {
        const close = skipString(css, j);
        const raw = css.slice(j + 1, close - 1);
        refs.push({ value: unescapeCss(raw), start: j + 1 + offset, end: close - 1 + offset, kind: 'import' });
        i = close;
        continue;
      }
      if (/^url\(/i.test(css.slice(j, j + 4))) {
        const ref = readUrlFunction(css, j + 4);
        if (ref) {
          refs.push({ ...ref, start: ref.start + offset, end: ref.end + offset, kind: 'import' });
          i = ref.after;
          continue;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  return refs;
}

/** `//# sourceMappingURL=` (and the `/*# ... *\/` form) in JavaScript. */
export function findSourceMapRefs(text: string): TextRef[] {
  const refs: TextRef[] = [];
  for (const m of text.matchAll(SOURCE_MAP)) {
    const value = m[1];
    if (!value || m.index === undefined) continue;
    const start = m.index + m[0].length - value.length;
    refs.push({ value, start, end: start + value.length, kind: 'sourcemap' });
  }
  return refs;
}

/** Replaces ranges of `text`; `edits` must not overlap. */
export function applyEdits(text: string, edits: { start: number; end: number; replacement: string }[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    out += text.slice(pos, e.start) + e.replacement;
    pos = e.end;
  }
  return out + text.slice(pos);
}

function readUrlFunction(css: string, i: number): { value: string; start: number; end: number; after: number } | undefined {
  const n = css.length;
  while (i < n && /\s/.test(css[i] ?? '')) i++;
  const q = css[i];
  if (q === '"' || q === "'") {
    const close = skipString(css, i);
    let after = close;
    while (after < n && /\s/.test(css[after] ?? '')) after++;
    if (css[after] === ')') after++;
    return { value: unescapeCss(css.slice(i + 1, close - 1)), start: i + 1, end: close - 1, after };
  }
  const close = css.indexOf(')', i);
  if (close < 0) return undefined;
  const raw = css.slice(i, close);
  const trimmed = raw.trimEnd();
  return { value: unescapeCss(trimmed), start: i, end: i + trimmed.length, after: close + 1 };
}

/** Index just past the closing quote of the string starting at `i`. */
function skipString(css: string, i: number): number {
  const q = css[i];
  let j = i + 1;
  while (j < css.length) {
    const c = css[j];
    if (c === '\\') j += 2;
    else if (c === q || c === '\n') return j + 1;
    else j++;
  }
  return css.length;
}

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[\w-]/.test(c);
}

function unescapeCss(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{1,6}\s?|.)/g, (_m, e: string) =>
    /^[0-9a-fA-F]/.test(e) ? String.fromCodePoint(parseInt(e, 16)) : e,
  );
}
