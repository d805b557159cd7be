/**
 * `--hash` for sync and put: content-hashed copies of the files (src/templates/hashing.ts), the
 * `offload-manifest.json` describing them, and the grace period (`--keep-hashed`) for hashed objects
 * that stopped being current. Produces plan actions; the caller runs the manifest upload last.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { typeByName } from './content-type.js';
import { errorCode, httpStatus } from './errors.js';
import { md5Hex, multipartPartSize } from './hash.js';
import { keyFor } from './keys.js';
import type { Events, SyncSettings, UploadAction } from './plan.js';
import type { RemoteObject } from './remote.js';
import { withRetry } from './retry.js';
import { IMMUTABLE } from './rules.js';
import { headersHash } from './state.js';
import { hashFiles, type HashedFile } from '../../templates/hashing.js';
import { MANIFEST_NAME, parseManifest, serializeManifest, unhashedKey, type Manifest } from '../../templates/manifest.js';

export const MANIFEST_CACHE_CONTROL = 'no-cache';
export const MANIFEST_TYPE = 'application/json; charset=utf-8';

export interface HashInput {
  client: S3Client;
  bucket: string;
  /** Key prefix ('' or ending in '/'). */
  prefix: string;
  /** Logical path (relative, forward slashes) → file on disk. */
  files: Map<string, string>;
  settings: SyncSettings;
  events: Events;
  /** Base the files were served from locally (`/media/`), for base-absolute references. */
  base?: string;
}

export interface HashedCopy {
  file: HashedFile;
  /** Full object key. */
  key: string;
  action: UploadAction;
}

export interface HashOutput {
  /** Files with a hashed name different from their own (HTML pages keep theirs). */
  copies: HashedCopy[];
  /** Manifest of this set (no `retired` yet). */
  manifest: Manifest;
}

/** Hashes the set and builds an upload action per hashed copy. */
export async function hashSet(input: HashInput): Promise<HashOutput> {
  const map = new Map([...input.files].filter(([logical]) => logical !== MANIFEST_NAME));
  if (map.size < input.files.size) input.events.warn(`${MANIFEST_NAME} in the source is replaced by the generated manifest`);
  const result = await hashFiles(map, { base: input.base });
  for (const w of result.warnings) input.events.warn(w);
  const copies: HashedCopy[] = [];
  for (const f of result.files) {
    const contentType = input.settings.rules.contentType.valueFor(f.logicalPath) ?? typeByName(f.logicalPath) ?? f.contentType;
    const entry = result.manifest.files[f.logicalPath];
    if (entry) entry.contentType = contentType;
    if (f.hashedKey === f.logicalPath) continue;
    const key = keyFor(input.prefix, f.hashedKey);
    const source: UploadAction['source'] = f.body ? { kind: 'buffer', data: f.body } : { kind: 'file', path: f.path, size: f.size, mtimeMs: 0 };
    copies.push({
      file: f,
      key,
      action: {
        op: 'upload', change: 'created', bucket: input.bucket, key, rel: f.hashedKey, source, size: f.size,
        contentType, cacheControl: IMMUTABLE, md5: f.body ? md5Hex(f.body) : undefined,
        partSize: f.body ? undefined : multipartPartSize(f.size, input.settings.multipart),
        headersHash: headersHash({ contentType, cacheControl: IMMUTABLE }),
      },
    });
  }
  return { copies, manifest: result.manifest };
}

/** The bucket's current manifest, or undefined when there is none (or it is unreadable: warned). */
export async function readRemoteManifest(client: S3Client, bucket: string, key: string, events: Events): Promise<{ manifest?: Manifest; text?: string }> {
  let text: string;
  try {
    const out = await withRetry(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    text = (await out.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    if (httpStatus(err) === 404 || errorCode(err) === 'NoSuchKey' || errorCode(err) === 'NotFound') return {};
    throw err;
  }
  try {
    return { manifest: parseManifest(JSON.parse(text), `s3://${bucket}/${key}`), text };
  } catch (err) {
    events.warn(`ignoring the bucket's manifest: ${(err as Error).message}`);
    return { text };
  }
}

export interface Retirement {
  /** Full keys of old hashed objects still in their grace period. */
  keep: string[];
  /** Full keys of old hashed objects past it (deletable with --delete). */
  remove: string[];
  /** `retired` map for the new manifest (keys relative to the prefix). */
  retired: Record<string, string>;
}

/**
 * Which old hashed objects to keep. An object is ours when its unhashed name is a file of the new
 * or the previous manifest, or the previous manifest names it (current or retired), so files that
 * left the source get their grace period too. Retirement time: the previous manifest's `retired`
 * entry; now, for a key that was current; else the object's upload time.
 */
export function planRetirement(opts: { remote: RemoteObject[]; prefix: string; next: Manifest; previous?: Manifest; graceMs: number; now?: Date }): Retirement {
  const now = opts.now ?? new Date();
  const current = new Set(Object.values(opts.next.files).map((e) => e.key));
  const previousCurrent = new Set(Object.values(opts.previous?.files ?? {}).map((e) => e.key));
  const logical = new Set([...Object.keys(opts.next.files), ...Object.keys(opts.previous?.files ?? {})]);
  const out: Retirement = { keep: [], remove: [], retired: {} };
  for (const obj of opts.remote) {
    if (!obj.key.startsWith(opts.prefix)) continue;
    const rel = obj.key.slice(opts.prefix.length);
    if (current.has(rel) || rel === MANIFEST_NAME) continue;
    const original = unhashedKey(rel);
    if (!original) continue;
    const recorded = opts.previous?.retired?.[rel];
    if (!recorded && !previousCurrent.has(rel) && !logical.has(original)) continue;
    const retiredAt = recorded ? new Date(recorded) : previousCurrent.has(rel) ? now : obj.lastModified;
    if (now.getTime() - retiredAt.getTime() < opts.graceMs) {
      out.keep.push(obj.key);
      out.retired[rel] = retiredAt.toISOString();
    } else {
      out.remove.push(obj.key);
    }
  }
  return out;
}

/** put: the new entries over the bucket's manifest; replaced keys are recorded as retired now. */
export function mergeManifest(previous: Manifest | undefined, next: Manifest, now = new Date()): Manifest {
  const retired: Record<string, string> = { ...(previous?.retired ?? {}) };
  for (const [logical, entry] of Object.entries(next.files)) {
    const old = previous?.files[logical];
    if (old && old.key !== entry.key && old.key !== logical) retired[old.key] ??= now.toISOString();
    delete retired[entry.key];
  }
  return { version: 1, files: { ...(previous?.files ?? {}), ...next.files }, retired };
}

/** The manifest upload, or undefined when the bucket already has exactly these bytes. */
export function manifestUpload(bucket: string, key: string, manifest: Manifest, previousText: string | undefined): { action?: UploadAction; text: string } {
  const text = serializeManifest(manifest);
  if (previousText === text) return { text };
  const data = Buffer.from(text, 'utf8');
  return {
    text,
    action: {
      op: 'upload', change: previousText === undefined ? 'created' : 'updated', bucket, key, rel: MANIFEST_NAME,
      source: { kind: 'buffer', data }, size: data.length, contentType: MANIFEST_TYPE, cacheControl: MANIFEST_CACHE_CONTROL,
      md5: md5Hex(data), headersHash: headersHash({ contentType: MANIFEST_TYPE, cacheControl: MANIFEST_CACHE_CONTROL }),
    },
  };
}
