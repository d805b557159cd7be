/**
 * `--precompress`: `key.br` and `key.gz` beside text objects, when smaller than the original.
 * Siblings are stored as application/octet-stream with x-amz-meta-offload-encoding; `offload serve`
 * (src/serving/variants.ts) serves them, with the original's headers, to clients that accept the
 * encoding. A sibling that no longer pays off is deleted, since it would be stale.
 *
 * Re-runs cost nothing for unchanged sources: the state file remembers, per sibling key, the MD5
 * of the source it was made from (in its header hash) and the ETag it got, so a sibling whose
 * source MD5 (itself cached by path + size + mtime) and listed ETag still match is skipped without
 * reading or compressing anything; a source whose compressed form did not pay off is remembered too.
 * Compression runs on zlib's asynchronous API, which uses libuv's thread pool, so it spreads over the cores.
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
import { headersHash, type SyncState } from './state.js';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export const SIBLING_TYPE = 'application/octet-stream';
export const ENCODING_META = 'offload-encoding';
export const SIBLING_SUFFIXES = ['.br', '.gz'] as const;
/** Larger files are not compressed (the whole file is held in memory). */
export const MAX_PRECOMPRESS = 64 * 1024 * 1024;

/**
 * Chosen by measurement on the Python 3 HTML docs (1,049 text files, 62.9 MiB, one core): brotli
 * q5 1.3 s → 15.7 % of the size, q6 1.4 s → 15.5 %, q9 13.6 s → 15.2 %, q11 95 s → 13.5 %;
 * gzip -6 0.96 s → 17.6 %, -9 1.8 s → 17.4 %. q5 and -6 keep a first run within about twice a
 * sync without --precompress; q11 would make it 40 times slower for 2 points of ratio.
 */
export const BROTLI_QUALITY = 5;
export const GZIP_LEVEL = 6;
/** Part of each sibling's state record: a change of levels makes new siblings. */
const LEVELS = `br${BROTLI_QUALITY}/gz${GZIP_LEVEL}`;
/** State-file ETag of a sibling deliberately not stored (compressed form not smaller). */
const NOT_SMALLER = '-';

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
  source: { kind: 'buffer'; data: Buffer } | { kind: 'file'; path: string; mtimeMs?: number };
}

export interface SiblingPlan {
  uploads: UploadAction[];
  /** Sibling keys that should exist after the run (planned or already up to date). */
  wanted: Set<string>;
  /** Full keys of existing siblings that no longer pay off (stale): delete them. */
  stale: string[];
  skipped: number;
  /** Compressions done (one per encoding and source). */
  compressed: number;
}

async function compress(data: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
  if (encoding === 'gzip') return gz(data, { level: GZIP_LEVEL });
  return brotli(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
}

const ENCODINGS = [['br', '.br'], ['gzip', '.gz']] as const;

export async function planSiblings(opts: {
  client: S3Client;
  bucket: string;
  targets: SiblingTarget[];
  remote: Map<string, RemoteObject>;
  concurrency: number;
  events: Events;
  state?: SyncState;
}): Promise<SiblingPlan> {
  const { bucket, state } = opts;
  const out: SiblingPlan = { uploads: [], wanted: new Set(), stale: [], skipped: 0, compressed: 0 };
  const targets = opts.targets.filter((t) => isPrecompressible(t.key) && t.size > 0 && t.size <= MAX_PRECOMPRESS);
  // A hashed copy has its original's bytes (unless references were rewritten): compress them once.
  const made = new Map<string, Promise<Buffer>>();
  const compressOnce = (data: Buffer, md5: string, encoding: 'br' | 'gzip') => {
    const id = `${md5} ${encoding}`;
    let packed = made.get(id);
    if (!packed) {
      packed = compress(data, encoding);
      made.set(id, packed);
      out.compressed++;
    }
    return packed;
  };
  await runPool(targets, opts.concurrency, async (t) => {
    try {
      let data: Buffer | undefined = t.source.kind === 'buffer' ? t.source.data : undefined;
      const load = async () => (data ??= await readFile((t.source as { path: string }).path));
      const sourceMd5 = knownMd5(t, state) ?? md5Hex(await load());
      await Promise.all(ENCODINGS.map(async ([encoding, suffix]) => {
        const key = t.key + suffix;
        const remote = opts.remote.get(key);
        const hh = headersHash({ contentType: SIBLING_TYPE, cacheControl: t.cacheControl, encoding, source: sourceMd5, levels: LEVELS });
        const record = state?.getRemote(bucket, key);
        if (record?.headers === hh) {
          if (remote && record.etag === remote.etag) {
            out.wanted.add(key);
            out.skipped++;
            return;
          }
          if (!remote && record.etag === NOT_SMALLER) return;
        }
        const source = await load();
        const packed = await compressOnce(source, sourceMd5, encoding);
        if (packed.length >= source.length) {
          if (remote) out.stale.push(key);
          state?.setRemote(bucket, key, { etag: NOT_SMALLER, headers: hh });
          return;
        }
        out.wanted.add(key);
        const md5 = md5Hex(packed);
        if (remote && remote.size === packed.length) {
          const same = remote.etag === md5 || (await headObject(opts.client, bucket, key))?.metadata[MD5_META] === md5;
          if (same) {
            state?.setRemote(bucket, key, { etag: remote.etag, headers: hh, md5 });
            out.skipped++;
            return;
          }
        }
        out.uploads.push({
          op: 'upload', change: remote ? 'updated' : 'created', bucket, key, rel: t.rel + suffix,
          source: { kind: 'buffer', data: packed }, size: packed.length, contentType: SIBLING_TYPE,
          cacheControl: t.cacheControl, md5, metadata: { [ENCODING_META]: encoding }, headersHash: hh,
        });
      }));
    } catch (err) {
      opts.events.fail(t.key, `precompress: ${describeError(err)}`);
    }
  });
  out.uploads.sort((a, b) => (a.key < b.key ? -1 : 1));
  return out;
}

/** The source's MD5 without reading it: a buffer's is cheap, a file's comes from the state cache. */
function knownMd5(t: SiblingTarget, state: SyncState | undefined): string | undefined {
  if (t.source.kind === 'buffer') return md5Hex(t.source.data);
  if (t.source.mtimeMs === undefined) return undefined;
  return state?.getLocal(t.source.path, t.size, t.source.mtimeMs)?.md5;
}

/** Existing sibling keys (`key.br`, `key.gz`) of an object, from a listing. */
export function siblingsIn(remote: Map<string, RemoteObject>, key: string): string[] {
  return SIBLING_SUFFIXES.map((s) => key + s).filter((k) => remote.has(k));
}
