/**
 * ListObjects over a key index, for both stores: the source gives the keys after a key
 * (SQLite synchronously, PostgreSQL over the network), the loop of list-core.ts groups them.
 */
import { continueAfter, listGrouped } from './list-core.js';
import type { ListInput, ListResult, ObjectMeta } from './types.js';

/** Up to `limit` current objects with keys strictly after `after` and not below `from`, by key. */
export type SelectKeys<M> = (after: string, from: string, limit: number) => { key: string; meta: M }[] | Promise<{ key: string; meta: M }[]>;

export async function listKeys<M>(select: SelectKeys<M>, decode: (key: string, meta: M) => ObjectMeta, input: ListInput): Promise<ListResult> {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter ?? '';
  const page = await listGrouped(
    { fetch: select, keyOf: (row) => row.key, after: (row) => row.key, afterKey: (key) => key },
    { prefix, delimiter, start: continueAfter(input.after ?? '', prefix, delimiter), maxKeys: input.maxKeys },
  );
  const objects: ObjectMeta[] = [];
  const commonPrefixes: string[] = [];
  for (const entry of page.entries) {
    if (entry.prefix === undefined) objects.push(decode(entry.row.key, entry.row.meta));
    else commonPrefixes.push(entry.prefix);
  }
  const last = page.entries.at(-1);
  return { objects, commonPrefixes, isTruncated: page.isTruncated, lastReturned: last && (last.prefix ?? last.row.key) };
}
