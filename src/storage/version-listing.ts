/**
 * ListObjectVersions for both stores, over the listing loop of list-core.ts: the source gives
 * the versions after a (key, position) in S3's order, key ascending and newest first within a
 * key, from an index a batch at a time; this module adds the key/version-id markers, IsLatest
 * and the next markers. On SQLite the source merges the two tables a version can be in (the
 * current objects, and `versions`: sqliteVersions below); on PostgreSQL one index holds them all.
 */
import type { Statement } from 'better-sqlite3';
import { continueAfter, listGrouped } from './list-core.js';
import { decodeVersion, type VersionRow, type VersionRows } from './versions.js';
import type { ListVersionsInput, ListVersionsResult, ObjectMeta, VersionEntry } from './types.js';

/** A place in the listing: a key, and within it a position that grows from newest to oldest. */
export interface VersionPos {
  key: string;
  pos: number;
}

/** Before every version of the key (its current object sits here): "all of the key is still ahead". */
export const BEFORE_ALL_VERSIONS = -Number.MAX_SAFE_INTEGER;
/** Past every version of the key. */
export const AFTER_ALL_VERSIONS = Number.MAX_SAFE_INTEGER;

export interface VersionSource<Row> {
  /** Up to `limit` versions strictly after `after`, in S3's order, none with a key below `from`. */
  fetch(after: VersionPos, from: string, limit: number): Row[] | Promise<Row[]>;
  keyOf(row: Row): string;
  posOf(row: Row): number;
  decode(row: Row): ObjectMeta;
  /** Where a version is within its key (undefined: no such version). */
  positionOf(key: string, versionId: string): number | undefined | Promise<number | undefined>;
}

export async function listVersions<Row>(src: VersionSource<Row>, input: ListVersionsInput): Promise<ListVersionsResult> {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter ?? '';
  let start: VersionPos = { key: '', pos: AFTER_ALL_VERSIONS };
  // The key whose latest version is already behind the cursor (IsLatest is false for the rest of it).
  let latestSeenKey: string | undefined;
  if (input.keyMarker) {
    start = { key: continueAfter(input.keyMarker, prefix, delimiter), pos: AFTER_ALL_VERSIONS };
    latestSeenKey = start.key;
    if (input.versionIdMarker) start.pos = (await src.positionOf(start.key, input.versionIdMarker)) ?? AFTER_ALL_VERSIONS;
  }
  const page = await listGrouped(
    { fetch: src.fetch, keyOf: src.keyOf, after: (row) => ({ key: src.keyOf(row), pos: src.posOf(row) }), afterKey: (key) => ({ key, pos: AFTER_ALL_VERSIONS }) },
    { prefix, delimiter, start, maxKeys: input.maxKeys },
  );
  const versions: VersionEntry[] = [];
  const commonPrefixes: string[] = [];
  for (const entry of page.entries) {
    if (entry.prefix !== undefined) {
      commonPrefixes.push(entry.prefix);
      continue;
    }
    const key = src.keyOf(entry.row);
    versions.push({ meta: src.decode(entry.row), isLatest: latestSeenKey !== key });
    latestSeenKey = key;
  }
  const last = page.entries.at(-1);
  const next = !page.isTruncated || !last ? {} : last.prefix === undefined ? { nextKeyMarker: src.keyOf(last.row), nextVersionIdMarker: versions.at(-1)!.meta.versionId ?? 'null' } : { nextKeyMarker: last.prefix };
  return { versions, commonPrefixes, isTruncated: page.isTruncated, ...next };
}

type SqliteRow = { key: string; pos: number; current?: string; old?: VersionRow };

/**
 * The SQLite source: the current objects (`objects`, at BEFORE_ALL_VERSIONS within their key)
 * and the older versions and markers (`versions`, by neg_seq), each read from its primary-key
 * index from the cursor on, merged. The first `limit` of the merge are within the first `limit` of each.
 */
export function sqliteVersions(bucket: string, current: Statement<[string, string, string, number], { key: string; meta: string }>, older: VersionRows, decodeCurrent: (key: string, json: string) => ObjectMeta, head: (key: string) => ObjectMeta | undefined): VersionSource<SqliteRow> {
  return {
    fetch(after, from, limit) {
      const rows: SqliteRow[] = current.all(bucket, after.key, from, limit).map((r) => ({ key: r.key, pos: BEFORE_ALL_VERSIONS, current: r.meta }));
      for (const v of older.sql.page.all(bucket, after.key, after.pos, from, limit)) rows.push({ key: v.key, pos: v.neg_seq, old: v });
      rows.sort((a, b) => (a.key === b.key ? a.pos - b.pos : a.key < b.key ? -1 : 1));
      return rows.slice(0, limit);
    },
    keyOf: (row) => row.key,
    posOf: (row) => row.pos,
    decode: (row) => (row.old ? decodeVersion(bucket, row.old) : decodeCurrent(row.key, row.current!)),
    positionOf(key, versionId) {
      const cur = head(key);
      if (cur && (cur.versionId ?? 'null') === versionId) return BEFORE_ALL_VERSIONS;
      return older.byId(bucket, key, versionId)?.neg_seq;
    },
  };
}
