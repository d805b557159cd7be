/**
 * The one listing loop of every store (ListObjects and ListObjectVersions, on SQLite and on
 * PostgreSQL): prefix and delimiter grouping over a source that returns the rows after a
 * position, in listing order, a batch at a time. A common prefix is skipped with one fetch from
 * the position past all of its keys, so the keys it hides are never read; a page costs about
 * its own size, whatever the bucket holds. The source may answer synchronously (SQLite) or not.
 */

/** Sorts after every key that starts with the given prefix (U+10FFFF is the largest code point). */
export const AFTER_ALL = '\u{10FFFF}';

/** Where rows come from: `Pos` is a place in the listing order (a key, or a key and a version). */
export interface ListSource<Row, Pos> {
  /** Up to `limit` rows strictly after `after`, in listing order, none with a key below `from`. */
  fetch(after: Pos, from: string, limit: number): Row[] | Promise<Row[]>;
  keyOf(row: Row): string;
  /** The position just past this row. */
  after(row: Row): Pos;
  /** The position past every row of this key and those before it. */
  afterKey(key: string): Pos;
}

export type ListEntry<Row> = { row: Row; prefix?: undefined } | { prefix: string; row?: undefined };

export interface GroupedPage<Row> {
  /** Rows and common prefixes interleaved in listing order, at most maxKeys of them together. */
  entries: ListEntry<Row>[];
  isTruncated: boolean;
}

/**
 * A marker (a key marker, start-after, a continuation) that is itself a common prefix means
 * "after that whole group": the key to continue after.
 */
export function continueAfter(marker: string, prefix: string, delimiter: string): string {
  if (delimiter && marker.startsWith(prefix)) {
    const i = marker.indexOf(delimiter, prefix.length);
    if (i >= 0 && i + delimiter.length === marker.length) return marker + AFTER_ALL;
  }
  return marker;
}

export async function listGrouped<Row, Pos>(src: ListSource<Row, Pos>, input: { prefix?: string; delimiter?: string; start: Pos; maxKeys: number }): Promise<GroupedPage<Row>> {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter ?? '';
  const want = input.maxKeys;
  const entries: ListEntry<Row>[] = [];
  let after = input.start;
  let isTruncated = false;
  outer: for (;;) {
    // One more than needed tells whether the page is truncated; 1001 bounds a batch's memory.
    const limit = Math.min(Math.max(want - entries.length + 1, 2), 1001);
    const rows = await src.fetch(after, prefix, limit);
    for (const row of rows) {
      const key = src.keyOf(row);
      if (!key.startsWith(prefix)) break outer;
      if (entries.length >= want) {
        isTruncated = true;
        break outer;
      }
      const i = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (i >= 0) {
        const group = key.slice(0, i + delimiter.length);
        entries.push({ prefix: group });
        after = src.afterKey(group + AFTER_ALL);
        continue outer;
      }
      entries.push({ row });
      after = src.after(row);
    }
    // A short batch was the end of the bucket: no round trip to find nothing after it.
    if (rows.length < limit) break;
  }
  if (want === 0) isTruncated = false;
  return { entries, isTruncated };
}
