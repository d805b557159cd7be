/**
 * Finds the URLs an HTML document refers to, with what each one is used for (stylesheet, script,
 * image, page, …) and its exact character range, so rewrite can replace it in place and check can
 * report its line. Elements come from htmlparser2; attribute positions are read from the raw tag.
 */
import { Parser } from 'htmlparser2';
import { findCssRefs } from './css-refs.js';
import { isNonFileUrl } from './urls.js';

/** What a reference is used for; decides whether rewrite touches it and which Content-Type check expects. */
export type RefUse = 'stylesheet' | 'script' | 'image' | 'font' | 'media' | 'track' | 'icon' | 'manifest' | 'other' | 'page' | 'frame';

export interface HtmlRef {
  /** The URL (entities decoded). */
  value: string;
  /** Range of the URL in the document's raw text. */
  start: number;
  end: number;
  tag: string;
  /** Attribute name, `style` for inline CSS, or `<style>` for a style element. */
  attr: string;
  use: RefUse;
}

/** True for uses that name a page of the site rather than a media file. */
export function isPageUse(use: RefUse): boolean {
  return use === 'page' || use === 'frame';
}

/**
 * The one definition `rewrite` and `check` share of which references are media: everything that
 * loads a file (stylesheets, scripts, images, fonts, media, icons, ...), not links to pages
 * (`<a href>`, `<link rel=canonical>`, forms) nor frames, which stay on the app server; rewrite
 * moves only media references to the bucket (all of them with includePages) and check expects
 * only those to have moved, so a page rewrite produced always passes check.
 */
export function isMediaReference(use: RefUse, includePages = false): boolean {
  return includePages || !isPageUse(use);
}

const FONT_EXT = /\.(woff2?|ttf|otf|eot)$/i;

/** Guesses the use of a URL found in CSS from its extension. */
export function cssUrlUse(url: string, kind: 'url' | 'import' | 'sourcemap'): RefUse {
  if (kind === 'import') return 'stylesheet';
  if (kind === 'sourcemap') return 'other';
  const path = url.split(/[?#]/)[0] ?? '';
  if (FONT_EXT.test(path)) return 'font';
  if (/\.css$/i.test(path)) return 'stylesheet';
  return 'image';
}

function linkUse(attrs: Record<string, string>): RefUse {
  const rel = (attrs.rel ?? '').toLowerCase().split(/\s+/);
  if (rel.includes('stylesheet')) return 'stylesheet';
  if (rel.includes('icon') || rel.includes('apple-touch-icon') || rel.includes('mask-icon') || rel.includes('apple-touch-icon-precomposed')) return 'icon';
  if (rel.includes('modulepreload')) return 'script';
  if (rel.includes('preload') || rel.includes('prefetch')) {
    const as = (attrs.as ?? '').toLowerCase();
    return as === 'style' ? 'stylesheet' : as === 'script' ? 'script' : as === 'font' ? 'font' : as === 'image' ? 'image' : as === 'video' || as === 'audio' ? 'media' : as === 'document' ? 'page' : 'other';
  }
  if (rel.includes('manifest')) return 'manifest';
  return 'page';
}

interface RawAttr {
  name: string;
  value: string;
  start: number;
  end: number;
}

const ATTR = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** Attributes of a raw start tag (`<img src="a.png" …>`) with value ranges relative to `offset`. */
function rawAttributes(tag: string, offset: number): RawAttr[] {
  const nameEnd = tag.search(/[\s/>]/);
  const out: RawAttr[] = [];
  ATTR.lastIndex = nameEnd < 0 ? tag.length : nameEnd;
  let m: RegExpExecArray | null;
  while ((m = ATTR.exec(tag))) {
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] ?? m[3] ?? m[4];
    if (value === undefined) continue;
    const valueStart = m.index + m[0].length - value.length - (m[4] === undefined ? 1 : 0);
    out.push({ name, value, start: offset + valueStart, end: offset + valueStart + value.length });
  }
  return out;
}

/** Splits a srcset (`a.png 1x, b.png 2x`) into its URLs with their ranges. */
function srcsetUrls(raw: string, offset: number): { value: string; start: number; end: number }[] {
  const out: { value: string; start: number; end: number }[] = [];
  let i = 0;
  while (i < raw.length) {
    while (i < raw.length && /[\s,]/.test(raw[i] ?? '')) i++;
    if (i >= raw.length) break;
    const start = i;
    while (i < raw.length && !/\s/.test(raw[i] ?? '')) i++;
    let end = i;
    const endedWithComma = raw[end - 1] === ',';
    while (end > start && raw[end - 1] === ',') end--;
    if (end > start) out.push({ value: raw.slice(start, end), start: offset + start, end: offset + end });
    if (!endedWithComma) {
      while (i < raw.length && raw[i] !== ',') i++;
    }
  }
  return out;
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|apos|#x27);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'", '#x27': "'" })[e] ?? _m);
}

export function findHtmlRefs(html: string): HtmlRef[] {
  const refs: HtmlRef[] = [];
  const open: string[] = [];
  const push = (tag: string, attr: string, use: RefUse, value: string, start: number, end: number) => {
    if (!isNonFileUrl(value)) refs.push({ tag, attr, use, value, start, end });
  };
  const parser: Parser = new Parser(
    {
      onopentag(name, attribs) {
        const start = parser.startIndex;
        const end = parser.endIndex;
        const tag = name.toLowerCase();
        const attrs = rawAttributes(html.slice(start, end + 1), start);
        for (const a of attrs) {
          const v = decodeEntities(a.value);
          const inPicture = open.includes('picture');
          if (a.name === 'style') {
            for (const r of findCssRefs(html.slice(a.start, a.end), a.start)) {
              // url(&quot;x.png&quot;): the quotes are entities here.
              const q = /^(&quot;|&#39;|&apos;)(.*)\1$/.exec(r.value);
              const off = q ? (q[1] ?? '').length : 0;
              const value = q ? (q[2] ?? '') : r.value;
              push(tag, 'style', cssUrlUse(value, r.kind), decodeEntities(value), r.start + off, r.end - off);
            }
            continue;
          }
          if (a.name === 'srcset' || a.name === 'imagesrcset') {
            const use: RefUse = tag === 'link' ? linkUse(attribs) : 'image';
            for (const u of srcsetUrls(a.value, a.start)) push(tag, a.name, use, decodeEntities(u.value), u.start, u.end);
            continue;
          }
          const use = attributeUse(tag, a.name, attribs, inPicture);
          if (use) push(tag, a.name, use, v.trim(), a.start + (a.value.length - a.value.trimStart().length), a.end - (a.value.length - a.value.trimEnd().length));
        }
        if (!VOID.has(tag)) open.push(tag);
      },
      onclosetag(name) {
        const i = open.lastIndexOf(name.toLowerCase());
        if (i >= 0) open.length = i;
      },
      ontext() {
        if (open[open.length - 1] !== 'style') return;
        const start = parser.startIndex;
        const text = html.slice(start, parser.endIndex + 1);
        for (const r of findCssRefs(text, start)) push('style', '<style>', cssUrlUse(r.value, r.kind), r.value, r.start, r.end);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.end(html);
  return refs.sort((a, b) => a.start - b.start);
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

function attributeUse(tag: string, attr: string, attribs: Record<string, string>, inPicture: boolean): RefUse | undefined {
  switch (`${tag} ${attr}`) {
    case 'img src':
      return 'image';
    case 'script src':
      return 'script';
    case 'source src':
      return inPicture ? 'image' : 'media';
    case 'video src':
    case 'audio src':
      return 'media';
    case 'video poster':
      return 'image';
    case 'track src':
      return 'track';
    case 'input src':
      return (attribs.type ?? '').toLowerCase() === 'image' ? 'image' : undefined;
    case 'link href':
      return linkUse(attribs);
    case 'meta content': {
      const p = (attribs.property ?? attribs.name ?? '').toLowerCase();
      return /^(og:image|og:image:url|og:image:secure_url|twitter:image|og:video|og:audio)$/.test(p) ? 'image' : undefined;
    }
    case 'a href':
    case 'area href':
    case 'form action':
    case 'button formaction':
    case 'input formaction':
      return 'page';
    case 'iframe src':
    case 'frame src':
      return 'frame';
    case 'object data':
    case 'embed src':
      return 'other';
    default:
      return undefined;
  }
}
