/**
 * `offload keys rotate-master`: re-wraps every data key the old master key wrapped (objects and
 * parts of multipart uploads in progress) with the new one, in one transaction. The blobs are not
 * touched: a data key is what encrypts them, and it stays the same.
 */
import { openDatabase } from '../schema.js';
import type { Segment } from '../types.js';
import { unwrapKey, wrapKey, type MasterKey } from './keys.js';

export interface RotationResult {
  objects: number;
  parts: number;
  dataKeys: number;
}

export function rotateMasterKey(dataDir: string, oldKey: MasterKey, newKey: MasterKey): RotationResult {
  const db = openDatabase(dataDir);
  try {
    const result: RotationResult = { objects: 0, parts: 0, dataKeys: 0 };
    const rewrap = (segments: Segment[]): boolean => {
      let changed = false;
      for (const segment of segments) {
        const enc = segment.enc;
        if (!enc || enc.kek === 'customer' || enc.kek.master !== oldKey.id) continue;
        segment.enc = { ...enc, key: wrapKey(newKey.key, unwrapKey(oldKey.key, enc.key)), kek: { master: newKey.id } };
        result.dataKeys++;
        changed = true;
      }
      return changed;
    };
    db.transaction(() => {
      const putObject = db.prepare('UPDATE objects SET meta = ? WHERE bucket = ? AND key = ?');
      for (const row of db.prepare('SELECT bucket, key, meta FROM objects').all() as { bucket: string; key: string; meta: string }[]) {
        if (!row.meta.includes(oldKey.id)) continue;
        const meta = JSON.parse(row.meta) as { segments: Segment[] };
        if (rewrap(meta.segments)) {
          putObject.run(JSON.stringify(meta), row.bucket, row.key);
          result.objects++;
        }
      }
      const putPart = db.prepare('UPDATE parts SET data = ? WHERE upload_id = ? AND part_number = ?');
      for (const row of db.prepare('SELECT upload_id, part_number, data FROM parts').all() as { upload_id: string; part_number: number; data: string }[]) {
        if (!row.data.includes(oldKey.id)) continue;
        const part = JSON.parse(row.data) as { segment: Segment };
        if (rewrap([part.segment])) {
          putPart.run(JSON.stringify(part), row.upload_id, row.part_number);
          result.parts++;
        }
      }
    }).immediate();
    // The old wrapped keys must not linger in the WAL file once rotation is done.
    db.pragma('wal_checkpoint(TRUNCATE)');
    return result;
  } finally {
    db.close();
  }
}
