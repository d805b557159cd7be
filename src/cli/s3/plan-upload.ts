/**
 * Plans local → bucket: compares each local file with the listing (sizes, then MD5 against the
 * ETag, or against x-amz-meta-md5 for multipart objects), and the intended headers with those
 * last applied (state file), so an unchanged tree costs one listing and no HEADs.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { contentTypeForFile, sniffFile, typeByName } from './content-type.js';
import { describeError } from './errors.js';
import { etagMatches, hashFile, multipartPartSize, type FileHash } from './hash.js';
import { keyFor, relFromKey } from './keys.js';
import type { DeleteAction, Events, Plan, SyncSettings, TransferAction, UploadAction } from './plan.js';
import { headObject, MD5_META, type RemoteHead, type RemoteObject } from './remote.js';
import { runPool } from './retry.js';
import { cacheControlFor } from './rules.js';
import { headersHash, type SyncState } from './state.js';
import type { LocalFile } from './walk.js';

export interface UploadPlanInput {
  client: S3Client;
  bucket: string;
  prefix: string;
  files: LocalFile[];
  /** Listing of the destination prefix (empty for --force / put). */
  remote: RemoteObject[];
  /** Relative paths that could not be read: their objects are never deleted. */
  unreadable: string[];
  /** --files-from: only listed files are considered, nothing is deleted. */
  partial: boolean;
  settings: SyncSettings;
  state: SyncState;
  events: Events;
}

/** Local hash (cached by path + size + mtime). */
async function localHash(file: LocalFile, partSize: number | undefined, state: SyncState): Promise<FileHash> {
  const cached = state.getLocal(file.path, file.size, file.mtimeMs);
  if (cached && (partSize === undefined || cached.partSize === partSize)) return cached;
  const hash = await hashFile(file.path, partSize);
  state.setLocal(file.path, { ...cached, ...hash, size: file.size, mtimeMs: file.mtimeMs });
  return hash;
}

async function contentType(file: LocalFile, settings: SyncSettings, state: SyncState): Promise<string> {
  const ruled = settings.rules.contentType.valueFor(file.rel);
  if (ruled) return ruled;
  const byName = typeByName(file.rel);
  if (byName) return byName;
  const cached = state.getLocal(file.path, file.size, file.mtimeMs);
  if (cached?.sniffed) return cached.sniffed;
  const sniffed = await sniffFile(file.path, file.size);
  if (cached) state.setLocal(file.path, { ...cached, sniffed });
  return sniffed;
}

export async function planUpload(input: UploadPlanInput): Promise<Plan> {
  const { client, bucket, prefix, settings, state, events } = input;
  const remoteByKey = new Map(input.remote.map((o) => [o.key, o]));
  const slots: (TransferAction | null | undefined)[] = new Array(input.files.length);
  let skipped = 0;

  await runPool(input.files, settings.concurrency, async (file, i) => {
    try {
      slots[i] = await planFile(file);
      if (slots[i] === null) skipped++;
    } catch (err) {
      events.fail(file.path, describeError(err));
    }
  });

  async function planFile(file: LocalFile): Promise<TransferAction | null> {
    const key = keyFor(prefix, file.rel);
    const remote = remoteByKey.get(key);
    const partSize = multipartPartSize(file.size, settings.multipart);
    const type = await contentType(file, settings, state);
    const cacheControl = cacheControlFor(settings.rules, file.rel);
    const hh = headersHash({ contentType: type, cacheControl });
    // A new single-request upload needs no hash to decide: the upload itself computes the MD5
    // (and records it for the next run), so the file is read once instead of twice.
    const decided = !remote && !settings.force && partSize === undefined;
    const hash = settings.sizeOnly || settings.mtime || decided ? undefined : await localHash(file, partSize, state);
    const upload = (change: 'created' | 'updated'): UploadAction => ({
      op: 'upload', change, bucket, key, rel: file.rel,
      source: { kind: 'file', path: file.path, size: file.size, mtimeMs: file.mtimeMs },
      size: file.size, contentType: type, cacheControl, md5: hash?.md5, partSize, headersHash: hh,
    });
    if (settings.force) return upload(remote ? 'updated' : 'created');
    if (!remote) return upload('created');
    if (remote.size !== file.size) return upload('updated');
    let head: RemoteHead | undefined;
    const record = state.getRemote(bucket, key);
    if (settings.mtime) {
      if (file.mtimeMs > remote.lastModified.getTime() + 1000) return upload('updated');
    } else if (hash) {
      // What we sent last time, if the object is still that one (ETags that are not MD5s).
      const sentBefore = record?.md5 !== undefined && record.etag === remote.etag ? record.md5 === hash.md5 : undefined;
      const same = sentBefore ?? etagMatches(remote.etag, hash);
      if (same === false) return upload('updated');
      if (same === undefined) {
        head = await headObject(client, bucket, key);
        if (!head || head.metadata[MD5_META] !== hash.md5) return upload('updated');
      }
    }
    // Same bytes: are the headers the ones we want?
    const known = record && record.etag === remote.etag ? record.headers : undefined;
    if (known === undefined && !head && settings.checkHeaders) head = await headObject(client, bucket, key);
    let headersOk: boolean;
    if (head) headersOk = head.contentType === type && head.cacheControl === cacheControl && (known === undefined || known === hh);
    else headersOk = known === undefined || known === hh; // unknown: assume right (see --check-headers)
    // --public on an object last written without it (as far as the state file knows) needs a rewrite too.
    const aclOk = !settings.public || known === undefined || !!record?.public;
    const wasPublic = known !== undefined ? !!record?.public : settings.public;
    if (headersOk && aclOk) {
      state.setRemote(bucket, key, { etag: remote.etag, headers: hh, md5: hash?.md5 ?? record?.md5, public: wasPublic });
      return null;
    }
    return {
      op: 'headers', change: 'metadata', bucket, key, rel: file.rel, size: file.size, contentType: type, cacheControl,
      md5: hash?.md5 ?? head?.metadata[MD5_META] ?? record?.md5, headersHash: hh, public: settings.public || wasPublic,
    };
  }

  const transfers = slots.filter((s): s is TransferAction => !!s);
  const deletions: DeleteAction[] = [];
  if (settings.delete && !input.partial) {
    const present = new Set(input.files.map((f) => keyFor(prefix, f.rel)));
    const protectedDirs = input.unreadable.map((rel) => rel.replace(/\/?$/, '/'));
    for (const o of input.remote) {
      const rel = relFromKey(prefix, o.key);
      if (rel === undefined || rel === '' || present.has(o.key)) continue;
      if (input.unreadable.includes(rel) || protectedDirs.some((d) => rel.startsWith(d))) continue;
      if (!settings.filter.includes(rel) || settings.keep.keeps(rel)) continue;
      deletions.push({ op: 'delete', change: 'deleted', target: 's3', bucket, key: o.key, rel });
    }
  }
  return { transfers, deletions, skipped };
}

/** Upload actions for `put`/`cp`: no comparison, every file is sent. */
export async function planPut(files: LocalFile[], bucket: string, keyOf: (f: LocalFile) => string, settings: SyncSettings, events: Events): Promise<Plan> {
  const transfers: TransferAction[] = [];
  for (const file of files) {
    try {
      const key = keyOf(file);
      const type = settings.rules.contentType.valueFor(file.rel) ?? (await contentTypeForFile(file.rel, file.path, file.size));
      const cacheControl = cacheControlFor(settings.rules, file.rel);
      const partSize = multipartPartSize(file.size, settings.multipart);
      transfers.push({
        op: 'upload', change: 'created', bucket, key, rel: file.rel,
        source: { kind: 'file', path: file.path, size: file.size, mtimeMs: file.mtimeMs },
        size: file.size, contentType: type, cacheControl, partSize,
        headersHash: headersHash({ contentType: type, cacheControl }),
      });
    } catch (err) {
      events.fail(file.path, describeError(err));
    }
  }
  return { transfers, deletions: [], skipped: 0 };
}
