/**
 * ListObjectVersions: the current objects (`objects`) and the older versions and markers
 * (`versions`) merged in S3's order, key ascending and newest first within a key. Both tables
 * are read from their primary-key index a batch at a time from the page's position, and a
 * common prefix is skipped with one seek: a page costs about its own size, whatever the
 * bucket holds.
 */
import type { Statement } from 'better-sqlite3';
import { decodeVersion, type VersionRow, type VersionRows } from './versions.js';
import type { ListVersionsInput, ListVersionsResult, ObjectMeta, VersionEntry } from './types.js';

/** Sorts after every key that starts with the given prefix (U+10FFFF is the largest code point). */
const AFTER_ALL = '\u{10FFFF}';
/** neg_seq below every stored one: "all of this key's noncurrent versions are still ahead". */
const BEFORE_ALL_VERSIONS = -Number.MAX_SAFE_INTEGER;
/** neg_seq above every stored one: "past all of this key's versions". */
const AFTER_ALL_VERSIONS = Number.MAX_SAFE_INTEGER;
const BATCH = 200;

type CurrentSelect = Statement<[string, string, string, number], { key: string; meta: string }>;

interface Source {
  current: CurrentSelect;
  versions: VersionRows;
  decodeCurrent: (key: string, json: string) => ObjectMeta;
  /** The current object of a key (for a version-id marker naming it). */
  head: (key: string) => ObjectMeta | undefined;
}

/** Where the page starts: after (key, negSeq) in the versions' order; the key's current object is behind it. */
function startOf(src: Source, input: ListVersionsInput, prefix: string, delimiter: string): { key: string; negSeq: number; inKey: boolean } {
  let key = input.keyMarker ?? '';
  if (key === '') return { key: '', negSeq: AFTER_ALL_VERSIONS, inKey: false };
  // A marker that is itself a common prefix means: continue after that whole group.
  if (delimiter && key.startsWith(prefix)) {
    const i = key.indexOf(delimiter, prefix.length);
    if (i >= 0 && i + delimiter.length === key.length) key += AFTER_ALL;
  }
  const vid = input.versionIdMarker;
  if (vid !== undefined && vid !== '') {
    const current = src.head(key);
    if (current && (current.versionId ?? 'null') === vid) return { key, negSeq: BEFORE_ALL_VERSIONS, inKey: true };
    const row = src.versions.byId(input.bucket, key, vid);
    if (row) return { key, negSeq: row.neg_seq, inKey: true };
  }
  return { key, negSeq: AFTER_ALL_VERSIONS, inKey: true };
}

export function listVersions(src: Source, input: ListVersionsInput): ListVersionsResult {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter ?? '';
  const start = startOf(src, input, prefix, delimiter);
  let cursorKey = start.key;
  let cursorNeg = start.negSeq;
  // The key whose latest version is already behind the cursor (IsLatest is false for the rest of it).
  let latestSeenKey: string | undefined = start.inKey ? start.key : undefined;
  const versions: VersionEntry[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let last: { key: string; versionId?: string } | undefined;
  const want = input.maxKeys;
  let count = 0;
  outer: for (;;) {
    const currents = src.current.all(input.bucket, cursorKey, prefix, BATCH);
    const older = src.versions.sql.page.all(input.bucket, cursorKey, cursorNeg, prefix, BATCH);
    let ci = 0;
    let vi = 0;
    for (;;) {
      const c = currents[ci];
      const v: VersionRow | undefined = older[vi];
      // A batch used up while it was full may have more behind it: fetch both again from here.
      if ((c === undefined && currents.length === BATCH) || (v === undefined && older.length === BATCH)) continue outer;
      if (c === undefined && v === undefined) break outer;
      const takeCurrent = c !== undefined && (v === undefined || c.key <= v.key);
      const key = takeCurrent ? c!.key : v!.key;
      if (!key.startsWith(prefix)) break outer;
      if (count >= want) {
        isTruncated = true;
        break outer;
      }
      const d = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (d >= 0) {
        const group = key.slice(0, d + delimiter.length);
        commonPrefixes.push(group);
        count++;
        last = { key: group };
        cursorKey = group + AFTER_ALL;
        cursorNeg = AFTER_ALL_VERSIONS;
        latestSeenKey = undefined;
        continue outer;
      }
      const meta = takeCurrent ? src.decodeCurrent(c!.key, c!.meta) : decodeVersion(input.bucket, v!);
      versions.push({ meta, isLatest: latestSeenKey !== key });
      latestSeenKey = key;
      count++;
      last = { key, versionId: meta.versionId ?? 'null' };
      cursorKey = key;
      cursorNeg = takeCurrent ? BEFORE_ALL_VERSIONS : v!.neg_seq;
      if (takeCurrent) ci++;
      else vi++;
    }
  }
  if (want === 0) isTruncated = false;
  return { versions, commonPrefixes, isTruncated, nextKeyMarker: isTruncated ? last?.key : undefined, nextVersionIdMarker: isTruncated ? last?.versionId : undefined };
}
