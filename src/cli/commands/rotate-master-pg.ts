/** `offload keys rotate-master --meta URL` (loaded only then): the nodes keep serving meanwhile (postgres/rotate-pg.ts). */
import type { MasterKey } from '../../storage/encryption/keys.js';
import { PgDb } from '../../storage/postgres/db.js';
import { migrate } from '../../storage/postgres/migrations.js';
import { rotatePgMasterKey } from '../../storage/postgres/rotate-pg.js';

export async function rotateMasterKeyOnPostgres(url: string, oldKey: MasterKey, newKey: MasterKey): Promise<void> {
  const db = new PgDb(url, { maxConnections: 2 });
  try {
    await migrate(db);
    const done = await rotatePgMasterKey(db, oldKey, newKey, (line) => console.error(`offload keys rotate-master: ${line}`));
    console.log(`re-wrapped ${done.dataKeys} data keys (${done.objects} object versions, ${done.parts} parts of uploads in progress) in ${done.passes} passes: master key ${oldKey.id} -> ${newKey.id}`);
    console.log('nodes holding the new key now wrap new data keys with it; restart them with --master-key-file holding the new key (and no --previous-master-key-file) when convenient');
  } finally {
    await db.close();
  }
}
