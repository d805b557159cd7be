/**
 * The PostgreSQL side of `offload migrate` (loaded only for a postgres:// source or target): the
 * PgStore, and the access_keys table read and written directly (a key added here bumps the
 * change counter like any other, so running nodes would see it).
 */
import type { BlobStorage } from '../../storage/blobs.js';
import type { MasterKey } from '../../storage/encryption/keys.js';
import { scopeOf, type Credential } from '../../storage/keys.js';
import { openPgStore } from '../../storage/postgres/store.js';
import type { Side } from './migrate-side.js';

export async function openPostgresSide(url: string, blobs: BlobStorage | undefined, masterKey: MasterKey | undefined): Promise<Side> {
  if (blobs === undefined) throw new Error('offload migrate: with PostgreSQL metadata, say where its blobs are: --blobs (target) or --from-blobs (source)');
  // With a master key, a target records it (and refuses if its nodes use another one: master-key-record.ts).
  const store = await openPgStore(url, { blobs, masterKey });
  return {
    store,
    keys: {
      async list() {
        const rows = await store.db.query<{ access_key_id: string; secret: string; name: string; owner: string; scope_bucket: string | null; scope_access: string | null }>(
          'SELECT access_key_id, secret, name, owner, scope_bucket, scope_access FROM access_keys ORDER BY created_at',
        );
        return rows.rows.map((r): Credential => ({ accessKeyId: r.access_key_id, secretAccessKey: r.secret, owner: r.owner, displayName: r.name, scope: scopeOf(r) }));
      },
      async add(key) {
        await store.db.query(
          'INSERT INTO access_keys (access_key_id, secret, name, owner, created_at, scope_bucket, scope_access) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [key.accessKeyId, key.secretAccessKey, key.displayName, key.owner, Date.now(), key.scope?.bucket ?? null, key.scope?.access ?? null],
        );
      },
    },
    close: () => store.close(),
  };
}
