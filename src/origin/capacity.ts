/**
 * Capacity of an origin bucket: after a fill, while the bucket holds more bytes than its
 * capacity, the least recently read filled objects are deleted. Users' own uploads are counted
 * but never deleted. Purge deletes filled objects by key or prefix, and forgets their 404s.
 */
import type { ObjectMeta, Store } from '../storage/types.js';
import { filledMark } from './filled-meta.js';
import type { NegativeCache, RecentReads } from './memory.js';

async function* everyObject(store: Store, bucket: string, prefix = ''): AsyncGenerator<ObjectMeta> {
  let after: string | undefined;
  for (;;) {
    const page = await store.listObjects({ bucket, prefix, after, maxKeys: 1000 });
    yield* page.objects;
    if (!page.isTruncated || page.lastReturned === undefined) return;
    after = page.lastReturned;
  }
}

/** Deletes filled objects, least recently read first, until the bucket fits; returns how many. */
export async function evictOverCapacity(store: Store, bucket: string, capacity: number, reads: RecentReads, keep: string): Promise<number> {
  let total = 0;
  const candidates: { key: string; size: number; used: number }[] = [];
  for await (const meta of everyObject(store, bucket)) {
    total += meta.size;
    const mark = filledMark(meta);
    if (mark && meta.key !== keep) candidates.push({ key: meta.key, size: meta.size, used: reads.lastRead(`${bucket}/${meta.key}`) ?? mark.fetchedAt });
  }
  candidates.sort((a, b) => a.used - b.used);
  let evicted = 0;
  for (const c of candidates) {
    if (total <= capacity) break;
    const gone = await store.deleteObject(bucket, c.key);
    reads.forget(`${bucket}/${c.key}`);
    if (gone) {
      total -= gone.size;
      evicted++;
    }
  }
  return evicted;
}

export interface PurgeResult {
  purged: string[];
  /** Users' own uploads under the key or prefix: purge leaves them. */
  kept: number;
}

/** Deletes the filled object at `key`, or every one under `prefix`: the next GET fetches it again. */
export async function purge(store: Store, bucket: string, target: { key: string } | { prefix: string }, negative: NegativeCache): Promise<PurgeResult> {
  const result: PurgeResult = { purged: [], kept: 0 };
  const matches = (key: string) => ('key' in target ? key === target.key : key.startsWith(target.prefix));
  negative.forget((id) => id.startsWith(`${bucket}/`) && matches(id.slice(bucket.length + 1)));
  const found = 'key' in target ? [await store.headObject(bucket, target.key)].filter((m): m is ObjectMeta => m !== undefined) : everyObject(store, bucket, target.prefix);
  for await (const meta of found) {
    if (!filledMark(meta)) {
      result.kept++;
      continue;
    }
    await store.deleteObject(bucket, meta.key);
    result.purged.push(meta.key);
  }
  return result;
}
