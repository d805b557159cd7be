/**
 * Content-Type by file name (the `mime` package's tables, never the OS registry), with charset on
 * text types: one table for `offload sync` (cli/s3/content-type.ts adds sniffing for unknown
 * names) and the console's uploads.
 */
import { Mime } from 'mime';
import standardTypes from 'mime/types/standard.js';
import otherTypes from 'mime/types/other.js';

const mime = new Mime(standardTypes, otherTypes);
// Types browsers and CDNs expect, where the tables say something else or nothing.
mime.define(
  {
    'text/javascript': ['js', 'mjs', 'cjs'],
    'application/manifest+json': ['webmanifest'],
    'application/json': ['map', 'json'],
    'image/x-icon': ['ico'],
    'text/markdown': ['md', 'markdown'],
    'application/wasm': ['wasm'],
    'font/woff2': ['woff2'],
    'font/woff': ['woff'],
    'image/avif': ['avif'],
    'image/webp': ['webp'],
  },
  true,
);

export const SNIFF_BYTES = 8192;
export const OCTET_STREAM = 'application/octet-stream';
export const PLAIN_TEXT = 'text/plain; charset=utf-8';

/** Type for a file name from its extension only, with charset where it belongs; undefined if unknown. */
export function typeByName(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (!base.includes('.') || base.endsWith('.')) return undefined;
  const type = mime.getType(base);
  return type ? withCharset(type) : undefined;
}

export function withCharset(type: string): string {
  if (/;\s*charset=/i.test(type)) return type;
  const t = type.toLowerCase();
  const texty =
    t.startsWith('text/') ||
    t === 'application/javascript' ||
    t === 'application/json' ||
    t === 'application/xml' ||
    t === 'application/manifest+json' ||
    t === 'image/svg+xml' ||
    t.endsWith('+json') ||
    t.endsWith('+xml');
  return texty ? `${type}; charset=utf-8` : type;
}

