/** `/buckets/:b/objects`, `/object`, `/download`: browse by prefix, one object's details, its bytes. */
import { badInput } from './errors.js';
import type { ApiAnswer, SignedInCall } from './deps.js';
import { child, children, childText, parseXml } from '../s3/xml.js';
import { encodeKey, runS3, runS3Text } from './s3-call.js';
import { objectIsPublic } from './bucket-public.js';
import { writeReply } from '../s3/respond.js';
import { CACHE_SOURCE_HEADER } from '../media/cache-rules.js';
import { PREVIEW_CSP } from './http.js';

const SORTS = ['name', 'size', 'date'] as const;

export function requiredKey(call: SignedInCall): string {
  const key = call.query.get('key');
  if (key === null || key === '') throw badInput('"key" (the object\'s name) is required.');
  return key;
}

export async function listObjects(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const q = call.query;
  const limit = Number(q.get('limit') ?? '100');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badInput('"limit" is a whole number from 1 to 1000.');
  const sort = (q.get('sort') ?? 'name') as (typeof SORTS)[number];
  if (!SORTS.includes(sort)) throw badInput('"sort" is name, size or date.');
  const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(limit), prefix: q.get('prefix') ?? '' };
  const delimiter = q.get('delimiter') ?? '/';
  if (delimiter !== '') query.delimiter = delimiter;
  if (q.get('after')) query['continuation-token'] = q.get('after')!;
  const page = child(parseXml((await runS3Text(call, { method: 'GET', bucket, query })).text), 'ListBucketResult');
  const folders = children(page, 'CommonPrefixes').map((p) => childText(p, 'Prefix') ?? '');
  const listed = children(page, 'Contents').map((c) => ({
    key: childText(c, 'Key') ?? '',
    size: Number(childText(c, 'Size') ?? 0),
    lastModified: childText(c, 'LastModified') ?? '',
    etag: childText(c, 'ETag') ?? '',
  }));
  // Listings carry no Content-Type: each object's comes from its HEAD, as an S3 client would get it.
  const objects = await Promise.all(listed.map(async (o) => ({ ...o, contentType: await contentTypeOf(call, bucket, o.key) })));
  const dir = q.get('order') === 'desc' ? -1 : 1;
  const by = { name: (a: (typeof objects)[0], b: (typeof objects)[0]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0), size: (a: (typeof objects)[0], b: (typeof objects)[0]) => a.size - b.size, date: (a: (typeof objects)[0], b: (typeof objects)[0]) => a.lastModified.localeCompare(b.lastModified) }[sort];
  objects.sort((a, b) => dir * by(a, b));
  if (dir < 0 && sort === 'name') folders.reverse();
  const next = childText(page, 'NextContinuationToken');
  return { body: { folders, objects, ...(next ? { next } : {}) } };
}

async function contentTypeOf(call: SignedInCall, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await runS3Text(call, { method: 'HEAD', bucket, key });
    return head.headers?.['Content-Type'] as string | undefined;
  } catch {
    return undefined;
  }
}

export async function describeObject(call: SignedInCall, bucket: string, key: string) {
  const head = await runS3Text(call, { method: 'HEAD', bucket, key });
  const h = head.headers ?? {};
  const headers: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || name === CACHE_SOURCE_HEADER) continue;
    if (name.toLowerCase().startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = String(value);
    else headers[name] = String(value);
  }
  const publicUrl = `${call.deps.endpoint()}/${encodeURIComponent(bucket)}/${encodeKey(key)}`;
  const website = call.deps.websiteEndpoint?.();
  return {
    key,
    size: Number(h['Content-Length'] ?? 0),
    lastModified: h['Last-Modified'] === undefined ? '' : new Date(String(h['Last-Modified'])).toISOString(),
    etag: String(h.ETag ?? ''),
    contentType: h['Content-Type'] === undefined ? undefined : String(h['Content-Type']),
    cacheControl: h['Cache-Control'] === undefined ? undefined : String(h['Cache-Control']),
    cacheControlFrom: h[CACHE_SOURCE_HEADER] === undefined ? 'object' : String(h[CACHE_SOURCE_HEADER]),
    headers,
    metadata,
    public: await objectIsPublic(call, bucket, key),
    publicUrl,
    ...(website ? { websiteUrl: `${website}/${encodeKey(key)}`.replace('://', `://${bucket}.`) } : {}),
  };
}

export async function getObject(call: SignedInCall): Promise<ApiAnswer> {
  return { body: await describeObject(call, call.params.bucket!, requiredKey(call)) };
}

/** The bytes, as a download or (inline=1) for a preview, sandboxed so HTML or SVG cannot run script here. */
export async function download(call: SignedInCall): Promise<ApiAnswer> {
  const key = requiredKey(call);
  const range = call.req.headers.range;
  const reply = await runS3(call, { method: 'GET', bucket: call.params.bucket!, key, headers: { range } });
  const name = key.slice(key.lastIndexOf('/') + 1) || 'download';
  const inline = call.query.get('inline') === '1';
  const asciiName = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  reply.headers = {
    ...reply.headers,
    'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename="${asciiName}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    'Content-Security-Policy': PREVIEW_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, no-store',
  };
  writeReply(call.req, call.res, reply);
  return undefined;
}
