/** Plans bucket → local (downloads) and bucket → bucket (server-side copies). */
import type { S3Client } from '@aws-sdk/client-s3';
import { describeError } from './errors.js';
import { etagMatches, hashFile, isMultipartEtag, partSizeFor } from './hash.js';
import { keyFor, relFromKey, safeLocalPath } from './keys.js';
import type { DeleteAction, Events, Plan, SyncSettings, TransferAction } from './plan.js';
import { headObject, MD5_META, type RemoteObject } from './remote.js';
import { runPool } from './retry.js';
import type { SyncState } from './state.js';
import type { LocalFile } from './walk.js';

/** Source objects with their path relative to the source prefix, minus folder markers and filtered ones. */
function sourceEntries(objects: RemoteObject[], prefix: string, settings: SyncSettings): { obj: RemoteObject; rel: string }[] {
  const out: { obj: RemoteObject; rel: string }[] = [];
  for (const obj of objects) {
    const rel = relFromKey(prefix, obj.key);
    if (rel === undefined || rel === '' || rel.endsWith('/')) continue;
    if (!settings.filter.includes(rel)) continue;
    out.push({ obj, rel });
  }
  return out;
}

export interface DownloadPlanInput {
  client: S3Client;
  bucket: string;
  prefix: string;
  root: string;
  remote: RemoteObject[];
  local: LocalFile[];
  settings: SyncSettings;
  state: SyncState;
  events: Events;
}

export async function planDownload(input: DownloadPlanInput): Promise<Plan> {
  const { client, bucket, settings, state, events } = input;
  const localByRel = new Map(input.local.map((f) => [f.rel, f]));
  const entries = sourceEntries(input.remote, input.prefix, settings);
  const slots: (TransferAction | null | undefined)[] = new Array(entries.length);
  const seenLower = new Map<string, string>();
  const wanted = new Set<string>();
  for (const { rel } of entries) {
    const lower = rel.toLowerCase();
    const other = seenLower.get(lower);
    if (other !== undefined && other !== rel) events.warn(`keys differ only by case: ${other} and ${rel} (they collide on case-insensitive file systems)`);
    seenLower.set(lower, rel);
    wanted.add(rel.normalize('NFC'));
  }
  let skipped = 0;
  await runPool(entries, settings.concurrency, async ({ obj, rel }, i) => {
    const path = safeLocalPath(input.root, rel);
    if (!path) {
      events.warn(`skipping s3://${bucket}/${obj.key}: not a safe local file name`);
      return;
    }
    try {
      slots[i] = await decide(obj, rel, path);
      if (slots[i] === null) skipped++;
    } catch (err) {
      events.fail(path, describeError(err));
    }
  });

  async function decide(obj: RemoteObject, rel: string, path: string): Promise<TransferAction | null> {
    const local = localByRel.get(rel.normalize('NFC'));
    const download = (change: 'created' | 'updated'): TransferAction => ({
      op: 'download', change, bucket, key: obj.key, rel, path, size: obj.size, lastModified: obj.lastModified,
    });
    if (!local || settings.force) return download(local ? 'updated' : 'created');
    if (local.size !== obj.size) return download('updated');
    if (settings.sizeOnly) return null;
    if (settings.mtime) return obj.lastModified.getTime() > local.mtimeMs + 1000 ? download('updated') : null;
    const parts = isMultipartEtag(obj.etag) ? Number(obj.etag.split('-')[1]) : 0;
    let partSize: number | undefined;
    if (parts > 1) {
      // Guess the part size the uploader used: ours first, then common ones.
      for (const candidate of [partSizeFor(obj.size, settings.multipart.chunkSize), 8 << 20, 5 << 20, 16 << 20, 10 << 20, 64 << 20]) {
        if (Math.ceil(obj.size / candidate) === parts) {
          partSize = candidate;
          break;
        }
      }
    }
    const cached = state.getLocal(local.path, local.size, local.mtimeMs);
    const hash = cached && (!partSize || cached.partSize === partSize) ? cached : await hashFile(local.path, partSize);
    if (hash !== cached) state.setLocal(local.path, { ...hash, size: local.size, mtimeMs: local.mtimeMs });
    const same = etagMatches(obj.etag, hash);
    if (same === true) return null;
    if (same === false) return download('updated');
    const head = await headObject(client, bucket, obj.key);
    return head?.metadata[MD5_META] === hash.md5 ? null : download('updated');
  }

  const deletions: DeleteAction[] = [];
  if (settings.delete) {
    for (const f of input.local) {
      if (wanted.has(f.rel) || settings.keep.keeps(f.rel)) continue;
      deletions.push({ op: 'delete', change: 'deleted', target: 'local', path: f.path, rel: f.rel });
    }
  }
  return { transfers: slots.filter((s): s is TransferAction => !!s), deletions, skipped };
}

export interface CopyPlanInput {
  fromBucket: string;
  fromPrefix: string;
  source: RemoteObject[];
  bucket: string;
  prefix: string;
  dest: RemoteObject[];
  settings: SyncSettings;
}

export function planCopy(input: CopyPlanInput): Plan {
  const { settings } = input;
  const destByKey = new Map(input.dest.map((o) => [o.key, o]));
  const transfers: TransferAction[] = [];
  const wanted = new Set<string>();
  let skipped = 0;
  for (const { obj, rel } of sourceEntries(input.source, input.fromPrefix, settings)) {
    const key = keyFor(input.prefix, rel);
    wanted.add(key);
    const dest = destByKey.get(key);
    let change: 'created' | 'updated' | undefined;
    if (!dest) change = 'created';
    else if (settings.force || dest.size !== obj.size) change = 'updated';
    else if (settings.sizeOnly) change = undefined;
    else if (settings.mtime) change = obj.lastModified > dest.lastModified ? 'updated' : undefined;
    else change = dest.etag === obj.etag ? undefined : 'updated';
    if (!change) {
      skipped++;
      continue;
    }
    transfers.push({ op: 'copy', change, fromBucket: input.fromBucket, fromKey: obj.key, bucket: input.bucket, key, rel, size: obj.size });
  }
  const deletions: DeleteAction[] = [];
  if (settings.delete) {
    for (const o of input.dest) {
      const rel = relFromKey(input.prefix, o.key);
      if (rel === undefined || rel === '' || wanted.has(o.key)) continue;
      if (!settings.filter.includes(rel) || settings.keep.keeps(rel)) continue;
      deletions.push({ op: 'delete', change: 'deleted', target: 's3', bucket: input.bucket, key: o.key, rel });
    }
  }
  return { transfers, deletions, skipped };
}
