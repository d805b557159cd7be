/**
 * Access keys in PostgreSQL, shared by every node and by `offload keys --meta URL`. Lookups are
 * synchronous (the signature check asks for every request) and answer from the keys loaded
 * here; a change anywhere bumps the keys counter, and the store's refresh() (at the start of each
 * request) reloads them before the request is authenticated: a deleted key stops working on the
 * next request, on every node.
 */
import { randomBytes } from 'node:crypto';
import { randomAccessKeyId, randomSecret } from '../credentials-gen.js';
import type { Credential, KeyStore } from '../keys.js';
import { PgDb } from './db.js';
import { migrate } from './migrations.js';
import type { PgState } from './state.js';

type Row = { access_key_id: string; secret: string; name: string; owner: string };

const toCredential = (row: Row): Credential => ({ accessKeyId: row.access_key_id, secretAccessKey: row.secret, owner: row.owner, displayName: row.name });

export class PgKeyStore implements KeyStore {
  private byId = new Map<string, Credential>();
  private nameByOwner = new Map<string, string>();

  /** ownsDb: close() ends the pool too (the CLI's own connection, not a server's shared one). */
  constructor(private readonly db: PgDb, private readonly ownsDb: boolean) {}

  /** Loads every key (a few hundred at most in practice: one small query). */
  async reload(): Promise<void> {
    const { rows } = await this.db.read<Row>('SELECT access_key_id, secret, name, owner FROM access_keys ORDER BY created_at, access_key_id');
    const creds = rows.map(toCredential);
    this.byId = new Map(creds.map((c) => [c.accessKeyId, c]));
    this.nameByOwner = new Map();
    for (const c of creds) if (!this.nameByOwner.has(c.owner)) this.nameByOwner.set(c.owner, c.displayName);
  }

  async createKey({ name, accessKeyId, secretAccessKey }: { name: string; accessKeyId?: string; secretAccessKey?: string }): Promise<Credential> {
    const id = accessKeyId ?? randomAccessKeyId();
    const secret = secretAccessKey ?? randomSecret();
    if (!/^[A-Za-z0-9._-]{3,128}$/.test(id)) throw new Error('an access key id is 3 to 128 letters, digits, dots, dashes or underscores');
    if (secret.length < 8 || /\s/.test(secret)) throw new Error('a secret key is at least 8 characters without spaces');
    const owner = randomBytes(32).toString('hex');
    const inserted = await this.db.tx(async (sql) => {
      const { rowCount } = await sql.query('INSERT INTO access_keys (access_key_id, secret, name, owner, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [id, secret, name, owner, Date.now()]);
      if (rowCount === 1) await sql.query("SELECT offload_changed('keys')");
      return rowCount === 1;
    });
    if (!inserted) throw new Error(`access key ${id} already exists`);
    await this.reload();
    return { accessKeyId: id, secretAccessKey: secret, owner, displayName: name };
  }

  async listKeys(): Promise<Credential[]> {
    await this.reload();
    return [...this.byId.values()];
  }

  async deleteKey(accessKeyId: string): Promise<boolean> {
    const deleted = await this.db.tx(async (sql) => {
      const { rowCount } = await sql.query('DELETE FROM access_keys WHERE access_key_id = $1', [accessKeyId]);
      if (rowCount === 1) await sql.query("SELECT offload_changed('keys')");
      return rowCount === 1;
    });
    await this.reload();
    return deleted;
  }

  lookupKey(accessKeyId: string): Credential | undefined {
    return this.byId.get(accessKeyId);
  }

  nameOfOwner(owner: string): string | undefined {
    return this.nameByOwner.get(owner);
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.close();
  }
}

/** The keys of a server's PgStore: reloaded whenever its refresh() sees the keys counter move. */
export async function attachPgKeyStore(db: PgDb, state: PgState): Promise<PgKeyStore> {
  const keys = new PgKeyStore(db, false);
  await keys.reload();
  state.onKeysChanged = () => keys.reload();
  return keys;
}

/** The keys CLI's own connection to the metadata database (migrated first, like a server's). */
export async function openPgKeyStore(url: string): Promise<PgKeyStore> {
  const db = new PgDb(url, { maxConnections: 1 });
  try {
    await migrate(db);
    const keys = new PgKeyStore(db, true);
    await keys.reload();
    return keys;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
