/**
 * Which master key the nodes of one metadata database use (table master_key_record: its id, never
 * the key). The first node started with --master-key-file records its key's id; any later node
 * must hold that key (as its own or as --previous-master-key-file), else it is refused at start
 * with one line: a node with another key would write data keys the others cannot unwrap, and
 * could read none of theirs. `offload keys rotate-master --meta` moves the record to the new key
 * (rotate-pg.ts); nodes then wrap new data keys with it as soon as they hold it.
 */
import { S3Error } from '../../errors/s3-error.js';
import type { KeyRing } from '../encryption/keyring.js';
import type { Sealer } from '../encryption/sealer.js';
import type { PgDb } from './db.js';

export interface MasterKeyRecord {
  current: string;
  previous?: string;
}

// How long a node wraps new data keys with the recorded key before it reads the record again.
export const RECORD_TTL_MS = 2000;

export async function readMasterKeyRecord(db: PgDb): Promise<MasterKeyRecord | undefined> {
  const { rows } = await db.read<{ current_id: string; previous_id: string | null }>('SELECT current_id, previous_id FROM master_key_record');
  const row = rows[0];
  return row && { current: row.current_id, ...(row.previous_id !== null && { previous: row.previous_id }) };
}

/** Start-up: records the node's key for a database that has none, else checks it holds the recorded one. */
export async function claimMasterKey(db: PgDb, ring: KeyRing): Promise<MasterKeyRecord | undefined> {
  if (ring.master) await db.query('INSERT INTO master_key_record (current_id) VALUES ($1) ON CONFLICT DO NOTHING', [ring.master.id]);
  const record = await readMasterKeyRecord(db);
  if (!record || ring.holds(record.current)) return record;
  if (!ring.master) {
    throw new Error(`the metadata database's SSE-S3 objects are encrypted under master key ${record.current}: --master-key-file must hold it (every node, and offload migrate)`);
  }
  if (record.previous !== undefined && ring.holds(record.previous)) {
    throw new Error(`--master-key-file holds master key ${ring.master.id}, which \`offload keys rotate-master\` replaced by ${record.current}: start this node with the new key file`);
  }
  throw new Error(`--master-key-file holds master key ${ring.master.id}, but the metadata database's data keys are wrapped by master key ${record.current}: every node must be given the same master key file`);
}

/** The Sealer for new SSE-S3 data keys: the recorded key's, re-read every couple of seconds (a rotation moves it). */
export class RecordedMasterKey {
  private current: string | undefined;
  private readAt = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly db: PgDb, private readonly ring: KeyRing, initial?: MasterKeyRecord) {
    this.current = initial?.current;
    this.readAt = initial ? Date.now() : 0;
  }

  async sealer(): Promise<Sealer> {
    if (this.ring.master && Date.now() - this.readAt > RECORD_TTL_MS) {
      this.reading ??= readMasterKeyRecord(this.db)
        .then((record) => {
          this.current = record?.current;
          this.readAt = Date.now();
        })
        // The database is briefly unreachable: keep the last known key (the write itself will tell).
        .catch(() => undefined)
        .finally(() => (this.reading = undefined));
      await this.reading;
    }
    // Rotated to a key this node does not hold: a data key wrapped by ours would be unreadable
    // elsewhere, so the write is refused (503: a client retries, perhaps through another node).
    if (this.current !== undefined && this.ring.master && !this.ring.holds(this.current)) {
      throw new S3Error('ServiceUnavailable', `This node does not hold the cluster's current master key ${this.current} (offload keys rotate-master): it must be restarted with that key before it stores SSE-S3 objects.`);
    }
    return this.ring.sealerFor(this.current);
  }
}
