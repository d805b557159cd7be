/**
 * `--precompress`: `key.br` (brotli, quality 11) and `key.gz` (gzip, level 9) beside text objects,
 * when smaller than the original. Siblings are stored as application/octet-stream with
 * x-amz-meta-offload-encoding; `offload serve` (src/serving/variants.ts) serves them, with the
 * original's headers, to clients that accept the encoding. Unchanged siblings (same MD5 of the
 * compressed bytes) are skipped; a sibling that no longer pays off is deleted, since it would be stale.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { describeError } from './errors.js';
import { md5Hex } from './hash.js';
import type { Events, UploadAction } from './plan.js';
import { headObject, MD5_META, type RemoteObject } from './remote.js';
import { runPool } from './retry.js';
import { headersHash } from './state.js';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export const SIBLING_TYPE = 'application/octet-stream';
export const ENCODING_META = 'offload-encoding';
export const SIBLING_SUFFIXES = ['.br', '.gz'] as const;
/** Larger files are not compressed (brotli 11 on them takes long and the whole file is held in memory). */
export const MAX_PRECOMPRESS = 64 * 1024 * 1024;

const TEXT_NAME = /\.(css|js|mjs|svg|json|html?|txt|xml|webmanifest|wasm|ttf|otf)$/i;

export function isPrecompressible(name: string): boolean {
  return TEXT_NAME.test(name);
}

export interface SiblingTarget {
  /** Full key of the original object. */
  key: string;
  rel: string;
  size: number;
  cacheControl?: string;
  source: { kind: 'buffer'; data: Buffer } | { kind: 'file'; path: string };
}

export interface SiblingPlan {
  uploads: UploadAction[];
  /** Sibling keys that should exist after the run (planned or already up to date). */
  wanted: Set<string>;
  /** Full keys of existing siblings that no longer pay off (stale): delete them. */
  stale: string[];
  skipped: number;
}

async function compress(data: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
  if (encoding === 'gzip') return gz(data, { level: 9 });
  return brotli(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
}

export async function planSiblings(opts: {
  client: S3Client;
  bucket: string;
  targets: SiblingTarget[];
  remote: Map<string, RemoteObject>;
  concurrency: number;
  events: Events;
}): Promise<SiblingPlan> {
  const out: SiblingPlan = { uploads: [], wanted: new Set(), stale: [], skipped: 0 };
  const targets = opts.targets.filter((t) => isPrecompressible(t.key) && t.size > 0 && t.size <= MAX_PRECOMPRESS);
  await runPool(targets, opts.concurrency, async (t) => {
    try {
      const data = t.source.kind === 'buffer' ? t.source.data : await readFile(t.source.path);
      for (const [encoding, suffix] of [['br', '.br'], ['gzip', '.gz']] as const) {
        const key = t.key + suffix;
        const remote = opts.remote.get(key);
        const packed = await compress(data, encoding);
        if (packed.length >= data.length) {
          if (remote) out.stale.push(key);
          continue;
        }
        out.wanted.add(key);
        const md5 = md5Hex(packed);
        if (remote && remote.size === packed.length) {
          const same = remote.etag === md5 || (await headObject(opts.client, opts.bucket, key))?.metadata[MD5_META] === md5;
          if (same) {
            out.skipped++;
            continue;
          }
        }
        const metadata = { [ENCODING_META]: encoding };
        out.uploads.push({
          op: 'upload', change: remote ? 'updated' : 'created', bucket: opts.bucket, key, rel: t.rel + suffix,
          source: { kind: 'buffer', data: packed }, size: packed.length, contentType: SIBLING_TYPE,
          cacheControl: t.cacheControl, md5, metadata,
          headersHash: headersHash({ contentType: SIBLING_TYPE, cacheControl: t.cacheControl, encoding }),
        });
      }
    } catch (err) {
      opts.events.fail(t.key, `precompress: ${describeError(err)}`);
    }
  });
  out.uploads.sort((a, b) => (a.key < b.key ? -1 : 1));
  return out;
}

/** Existing sibling keys (`key.br`, `key.gz`) of an object, from a listing. */
export function siblingsIn(remote: Map<string, RemoteObject>, key: string): string[] {
  return SIBLING_SUFFIXES.map((s) => key + s).filter((k) => remote.has(k));
}
