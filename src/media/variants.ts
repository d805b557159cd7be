/**
 * Precompressed variants: `key.br` and `key.gz` beside `key` (as `offload sync --precompress`
 * uploads them) are served to clients that accept them, with Content-Encoding, the identity
 * object's Content-Type and headers, `Vary: Accept-Encoding`, and an ETag of the identity's
 * family (`"<md5>-br"`) so conditional requests work per representation. Ranges always get the
 * identity bytes, as do clients that accept neither encoding.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectMeta, Store } from '../storage/types.js';

export type Encoding = 'br' | 'gzip';
const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

/** Types that compress well enough for a variant to exist; everything else skips the lookup. */
export function isCompressible(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/javascript' ||
    type === 'application/json' ||
    type === 'application/manifest+json' ||
    type === 'application/xml' ||
    type === 'image/svg+xml' ||
    type === 'application/wasm' ||
    type === 'font/ttf' ||
    type === 'font/otf' ||
    type === 'application/vnd.ms-fontobject'
  );
}

/** Encodings the client accepts, best first (br before gzip at equal quality); q=0 excludes. */
export function acceptedEncodings(value: string | undefined): Encoding[] {
  if (!value) return [];
  const found: { enc: Encoding; q: number }[] = [];
  for (const part of value.split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
    const quality = q === undefined ? 1 : Number(q);
    const enc = name.trim().toLowerCase();
    if ((enc === 'br' || enc === 'gzip') && quality > 0) found.push({ enc, q: quality });
  }
  return found.sort((a, b) => b.q - a.q || (a.enc === 'br' ? -1 : 1)).map((f) => f.enc);
}

export interface Variant {
  encoding: Encoding;
  /** The variant object, presented as the identity object: its bytes, the identity's headers. */
  meta: ObjectMeta;
  key: string;
}

/**
 * The variant to serve for this request, if any; `vary` tells whether the response depends on
 * Accept-Encoding (a variant exists), so caches must keep representations apart.
 */
export async function chooseVariant(store: Store, identity: ObjectMeta, headers: IncomingHttpHeaders, opts: { ranged: boolean }): Promise<{ variant?: Variant; vary: boolean }> {
  if (!isCompressible(identity.contentType) || identity.contentEncoding !== undefined) return { vary: false };
  const accepted = acceptedEncodings(first(headers['accept-encoding']));
  const stored = new Map<Encoding, ObjectMeta>();
  for (const encoding of ['br', 'gzip'] as const) {
    const found = await store.headObject(identity.bucket, identity.key + SUFFIX[encoding]);
    if (found) stored.set(encoding, found);
  }
  const vary = stored.size > 0;
  const encoding = opts.ranged ? undefined : accepted.find((e) => stored.has(e));
  if (encoding === undefined) return { vary };
  const chosen = stored.get(encoding)!;
  const meta: ObjectMeta = {
    ...identity,
    size: chosen.size,
    segments: chosen.segments,
    partSizes: undefined,
    checksum: undefined,
    etag: `${identity.etag.slice(0, -1)}-${encoding}"`,
    contentEncoding: encoding,
  };
  return { variant: { encoding, meta, key: identity.key + SUFFIX[encoding] }, vary };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
