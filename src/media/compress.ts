/**
 * `--compress-on-the-fly`: text objects without a stored `.br`/`.gz` variant are compressed on
 * their first request and the result kept (in memory, per process, least recently used out
 * first). Entries are keyed by the identity's immutable blobs, so they are never stale. Never
 * used for ranges, for objects already encoded, or when compressing does not make them smaller.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { ObjectMeta, ObjectReader } from '../storage/types.js';
import { isCompressible, type Encoding } from './variants.js';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Smaller objects gain nothing worth a header; larger ones would hold too much memory. */
const MIN_SIZE = 256;
export const MAX_ON_THE_FLY_SIZE = 8 * 1024 * 1024;
const BUDGET = 64 * 1024 * 1024;

/** A compressed body, or null when compressing did not help. */
const kept = new Map<string, Buffer | null>();
let keptBytes = 0;

export function eligibleOnTheFly(meta: ObjectMeta): boolean {
  return meta.contentEncoding === undefined && meta.size >= MIN_SIZE && meta.size <= MAX_ON_THE_FLY_SIZE && isCompressible(meta.contentType);
}

function cacheKey(meta: ObjectMeta, encoding: Encoding): string {
  return `${meta.segments.map((s) => s.blobId).join('+')}:${encoding}`;
}

/** What is already known without compressing (for HEAD): the body, null for "no gain", undefined when not done yet. */
export function knownCompressed(meta: ObjectMeta, encoding: Encoding): Buffer | null | undefined {
  return kept.get(cacheKey(meta, encoding));
}

export async function compressedBody(reader: ObjectReader, encoding: Encoding): Promise<Buffer | null> {
  const id = cacheKey(reader.meta, encoding);
  const hit = kept.get(id);
  if (hit !== undefined) {
    kept.delete(id);
    kept.set(id, hit);
    return hit;
  }
  const identity = reader.bytes() ?? (await readAll(reader));
  const quality = identity.length <= 1024 * 1024 ? 9 : 5;
  const out = encoding === 'br'
    ? await brotli(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } })
    : await gzipAsync(identity, { level: 9 });
  const result = out.length < identity.length ? out : null;
  kept.set(id, result);
  keptBytes += result?.length ?? 0;
  for (const [key, value] of kept) {
    if (keptBytes <= BUDGET) break;
    kept.delete(key);
    keptBytes -= value?.length ?? 0;
  }
  return result;
}

async function readAll(reader: ObjectReader): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of reader.stream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
