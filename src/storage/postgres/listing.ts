/**
 * ListObjects over the (bucket, key) index, as storage/listing.ts does for SQLite: prefix and
 * delimiter grouping without reading the keys a common prefix hides (each group is skipped with
 * one index seek, one round trip).
 */
import type { ListInput, ListResult, ObjectMeta } from '../types.js';

/** Sorts after every key that starts with the given prefix (U+10FFFF is the largest code point). */
const AFTER_ALL = '\u{10FFFF}';

type Select = (after: string, prefix: string, limit: number) => Promise<{ key: string; meta: unknown }[]>;

export async function listPage(select: Select, decode: (key: string, meta: unknown) => ObjectMeta, input: ListInput): Promise<ListResult> {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter ?? '';
  let after = input.after ?? '';
  // A marker that is itself a common prefix means: continue after that whole group.
  if (delimiter && after.startsWith(prefix)) {
    const i = after.indexOf(delimiter, prefix.length);
    if (i >= 0 && i + delimiter.length === after.length) after += AFTER_ALL;
  }
  const objects: ObjectMeta[] = [];
  const commonPrefixes: string[] = [];
  let count = 0;
  let lastReturned: string | undefined;
  let isTruncated = false;
  const want = input.maxKeys;
  outer: for (;;) {
    const limit = Math.min(Math.max(want - count + 1, 2), 1001);
    const rows = await select(after, prefix, limit);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (!row.key.startsWith(prefix)) break outer;
      if (count >= want) {
        isTruncated = true;
        break outer;
      }
      const i = delimiter ? row.key.indexOf(delimiter, prefix.length) : -1;
      if (i >= 0) {
        const group = row.key.slice(0, i + delimiter.length);
        commonPrefixes.push(group);
        count++;
        lastReturned = group;
        after = group + AFTER_ALL;
        continue outer;
      }
      objects.push(decode(row.key, row.meta));
      count++;
      lastReturned = row.key;
      after = row.key;
    }
    // A short page was the end of the bucket: no round trip to find nothing after it.
    if (rows.length < limit) break;
  }
  if (want === 0) isTruncated = false;
  return { objects, commonPrefixes, isTruncated, lastReturned };
}
