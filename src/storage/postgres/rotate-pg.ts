/**
 * `offload keys rotate-master --meta postgres://...`: re-wraps the data keys the old master key
 * wraps (in object metas, every version, and in parts of uploads in progress) with the new one,
 * while nodes serve. Blobs are not touched: a data key is what encrypts them, and it stays.
 *
 * First the record (master-key-record.ts) moves to the new key, so nodes that hold it wrap new
 * data keys with it once they re-read it (within RECORD_TTL_MS, which is waited out). Then rows are re-wrapped in batches, each batch one
 * short transaction with its rows locked (FOR UPDATE: a concurrent write of the same key waits
 * for it, or it for the write) that also bumps the change counter, so no node keeps a cached meta
 * with the old wrapping. Passes repeat until one finds nothing left: writes that were sealed
 * before the record moved and committed during a pass are caught by the next.
 */
import { unwrapKey, wrapKey, type MasterKey } from '../encryption/keys.js';
import type { Segment } from '../types.js';
import type { PgDb } from './db.js';
import { RECORD_TTL_MS } from './master-key-record.js';

export interface PgRotationResult {
  objects: number;
  parts: number;
  dataKeys: number;
  passes: number;
}

const BATCH = 200;
const MAX_PASSES = 5;
// The same path for object metas (segments[*]) and parts (segment).
const USES_KEY = '$.** ? (@.kek.master == $id)';

/** Re-wraps, in place, the segments' data keys that `from` wraps; returns how many. */
export function rewrapSegments(segments: Segment[], from: MasterKey, to: MasterKey): number {
  let n = 0;
  for (const segment of segments) {
    const enc = segment.enc;
    if (!enc || enc.kek === 'customer' || enc.kek.master !== from.id) continue;
    segment.enc = { ...enc, key: wrapKey(to.key, unwrapKey(from.key, enc.key)), kek: { master: to.id } };
    n++;
  }
  return n;
}

export async function rotatePgMasterKey(db: PgDb, from: MasterKey, to: MasterKey, onProgress: (line: string) => void = () => undefined): Promise<PgRotationResult> {
  await moveRecord(db, from, to);
  // Until every node has read the moved record, some still wrap new data keys with the old key:
  // wait that out, so that the passes below also catch what they write meanwhile.
  onProgress(`master key record moved to ${to.id}; waiting ${RECORD_TTL_MS + 500} ms for the nodes to read it`);
  await new Promise((resolve) => setTimeout(resolve, RECORD_TTL_MS + 500));
  const result: PgRotationResult = { objects: 0, parts: 0, dataKeys: 0, passes: 0 };
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    result.passes = pass;
    const before = result.dataKeys;
    await rewrapTable(db, objectsTable, from, to, result);
    await rewrapTable(db, partsTable, from, to, result);
    onProgress(`pass ${pass}: ${result.dataKeys - before} data keys re-wrapped`);
    if (result.dataKeys === before) break;
  }
  return result;
}

/** The record names the new key from now on (and the old one as the key it replaced). */
async function moveRecord(db: PgDb, from: MasterKey, to: MasterKey): Promise<void> {
  await db.tx(async (sql) => {
    const { rows } = await sql.query<{ current_id: string }>('SELECT current_id FROM master_key_record FOR UPDATE');
    const current = rows[0]?.current_id;
    // Resuming a rotation that stopped half-way finds the record already moved.
    if (current !== undefined && current !== from.id && current !== to.id) {
      throw new Error(`the metadata database's master key is ${current}, not --old's ${from.id}: nothing was changed`);
    }
    await sql.query(
      `INSERT INTO master_key_record (current_id, previous_id) VALUES ($1, $2)
       ON CONFLICT (only_row) DO UPDATE SET current_id = $1, previous_id = $2, changed_at = now()`,
      [to.id, from.id],
    );
  });
}

interface Table {
  name: 'objects' | 'parts';
  keyColumns: string[];
  column: 'meta' | 'data';
  segmentsOf(doc: Record<string, unknown>): Segment[];
  counter: 'objects' | 'parts';
}

const objectsTable: Table = {
  name: 'objects',
  keyColumns: ['bucket', 'key', 'version_id'],
  column: 'meta',
  segmentsOf: (doc) => (doc.segments as Segment[] | undefined) ?? [],
  counter: 'objects',
};

const partsTable: Table = {
  name: 'parts',
  keyColumns: ['upload_id', 'part_number'],
  column: 'data',
  segmentsOf: (doc) => (doc.segment ? [doc.segment as Segment] : []),
  counter: 'parts',
};

/** One pass over a table in key order, BATCH matching rows per transaction. */
async function rewrapTable(db: PgDb, table: Table, from: MasterKey, to: MasterKey, result: PgRotationResult): Promise<void> {
  const keys = table.keyColumns.join(', ');
  const vars = JSON.stringify({ id: from.id });
  let after: unknown[] | undefined;
  for (;;) {
    // Counted once the batch is committed (a transaction that deadlocks runs again).
    const batch = await db.tx(async (sql) => {
      let changedRows = 0;
      let dataKeys = 0;
      const position = after ? `AND (${keys}) > (${table.keyColumns.map((_, i) => `$${i + 2}`).join(', ')})` : '';
      const { rows } = await sql.query<Record<string, unknown>>(
        `SELECT ${keys}, ${table.column} AS doc FROM ${table.name}
         WHERE jsonb_path_exists(${table.column}, '${USES_KEY}', $1::jsonb) ${position}
         ORDER BY ${keys} LIMIT ${BATCH} FOR UPDATE`,
        [vars, ...(after ?? [])],
      );
      for (const row of rows) {
        const doc = row.doc as Record<string, unknown>;
        const n = rewrapSegments(table.segmentsOf(doc), from, to);
        if (n === 0) continue;
        const where = table.keyColumns.map((c, i) => `${c} = $${i + 2}`).join(' AND ');
        await sql.query(`UPDATE ${table.name} SET ${table.column} = $1::jsonb WHERE ${where}`, [JSON.stringify(doc), ...table.keyColumns.map((c) => row[c])]);
        dataKeys += n;
        changedRows++;
      }
      // Nodes drop the metas they cached (with the old wrapping) on their next request.
      if (rows.length > 0 && table.name === 'objects') await sql.query("SELECT offload_changed('objects')");
      const last = rows[rows.length - 1];
      if (last) after = table.keyColumns.map((c) => last[c]);
      return { done: rows.length < BATCH, rows: changedRows, dataKeys };
    });
    result[table.counter] += batch.rows;
    result.dataKeys += batch.dataKeys;
    if (batch.done) return;
  }
}
