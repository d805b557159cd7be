/**
 * Extra access keys, in the data folder's database so that `offload keys` works while the
 * server runs (SQLite WAL allows the second writer; the server reads keys on each lookup).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { openDatabase, type Db } from './schema.js';
import { PRIVATE_DIR_MODE } from './permissions.js';
import { randomAccessKeyId, randomSecret } from './credentials-gen.js';

/**
 * What a key may do at most. `bucket`: only that bucket (and the key may use it as its owner
 * allowed, within `access`); `access`: `read` (get, head, list), `readwrite` (also put, copy and
 * delete objects, multipart, object ACLs and tags), `all` (no limit beyond the bucket).
 */
export interface KeyScope {
  bucket?: string;
  access: KeyAccess;
}

export type KeyAccess = 'read' | 'readwrite' | 'all';
export const KEY_ACCESS: readonly KeyAccess[] = ['read', 'readwrite', 'all'];

/** An access key: the secret signs requests as the owner it names. */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** Canonical user id of the owner this key acts as. */
  owner: string;
  displayName: string;
  /** Limits of the key; absent: none (the root key, and keys made before scopes). */
  scope?: KeyScope;
  /** When the key was made (epoch ms); absent for the root key. */
  createdAt?: number;
}

/**
 * Where access keys live. Lookups are synchronous (every request's signature check); changes may
 * be asynchronous (a shared metadata database, storage/postgres/keys.ts).
 */
export interface KeyStore {
  /** `owner` keeps a key's canonical id when it is copied from another store (offload migrate). */
  createKey(input: { name: string; accessKeyId?: string; secretAccessKey?: string; scope?: KeyScope; owner?: string }): Credential | Promise<Credential>;
  listKeys(): Credential[] | Promise<Credential[]>;
  deleteKey(accessKeyId: string): boolean | Promise<boolean>;
  lookupKey(accessKeyId: string): Credential | undefined;
  /** The name of the key that owns this canonical id, if any. */
  nameOfOwner(owner: string): string | undefined;
  close(): void | Promise<void>;
}

/** The data folder's keys (SQLite): every call is synchronous. */
export interface LocalKeyStore extends KeyStore {
  createKey(input: { name: string; accessKeyId?: string; secretAccessKey?: string; scope?: KeyScope; owner?: string }): Credential;
  listKeys(): Credential[];
  deleteKey(accessKeyId: string): boolean;
  close(): void;
}

type Row = { access_key_id: string; secret: string; name: string; owner: string; created_at: number; scope_bucket: string | null; scope_access: string | null };

export function openKeyStore(dataDir: string): LocalKeyStore {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const db = openDatabase(dataDir);
  addScopeColumns(db);
  const insert = db.prepare('INSERT INTO access_keys (access_key_id, secret, name, owner, created_at, scope_bucket, scope_access) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const all = db.prepare<[], Row>('SELECT * FROM access_keys ORDER BY created_at');
  const one = db.prepare<[string], Row>('SELECT * FROM access_keys WHERE access_key_id = ?');
  const remove = db.prepare('DELETE FROM access_keys WHERE access_key_id = ?');
  const byOwner = db.prepare<[string], { name: string }>('SELECT name FROM access_keys WHERE owner = ? LIMIT 1');
  const toCredential = (row: Row): Credential => ({
    accessKeyId: row.access_key_id,
    secretAccessKey: row.secret,
    owner: row.owner,
    displayName: row.name,
    createdAt: row.created_at,
    scope: scopeOf(row),
  });
  return {
    createKey({ name, accessKeyId, secretAccessKey, scope, owner: givenOwner }) {
      const id = accessKeyId ?? randomAccessKeyId();
      const secret = secretAccessKey ?? randomSecret();
      if (!/^[A-Za-z0-9._-]{3,128}$/.test(id)) throw new Error('an access key id is 3 to 128 letters, digits, dots, dashes or underscores');
      if (secret.length < 8 || /\s/.test(secret)) throw new Error('a secret key is at least 8 characters without spaces');
      if (one.get(id)) throw new Error(`access key ${id} already exists`);
      const limited = limitedScope(scope);
      const owner = givenOwner ?? randomBytes(32).toString('hex');
      const createdAt = Date.now();
      insert.run(id, secret, name, owner, createdAt, limited?.bucket ?? null, limited ? limited.access : null);
      return { accessKeyId: id, secretAccessKey: secret, owner, displayName: name, createdAt, scope: limited };
    },
    listKeys: () => all.all().map(toCredential),
    deleteKey: (id) => remove.run(id).changes > 0,
    lookupKey(id) {
      const row = one.get(id);
      return row && toCredential(row);
    },
    nameOfOwner: (owner) => byOwner.get(owner)?.name,
    close: () => db.close(),
  };
}

/** Schema migration: databases made before key scopes get the two columns (NULL: no limit). */
function addScopeColumns(db: Db): void {
  const missing = (): string[] => {
    const columns = new Set(db.prepare<[], { name: string }>('PRAGMA table_info(access_keys)').all().map((c) => c.name));
    return ['scope_bucket', 'scope_access'].filter((c) => !columns.has(c));
  };
  if (missing().length === 0) return;
  // Worker processes open the keys at the same moment: the write lock first, then look again, so
  // that two of them never both add a column (the second would fail, and its worker with it).
  db.transaction(() => {
    for (const column of missing()) db.exec(`ALTER TABLE access_keys ADD COLUMN ${column} TEXT`);
  }).immediate();
}

/** The scope to store: validated, and undefined when it limits nothing. */
export function limitedScope(scope: KeyScope | undefined): KeyScope | undefined {
  if (scope === undefined) return undefined;
  validateScope(scope);
  return scope.bucket !== undefined || scope.access !== 'all' ? scope : undefined;
}

/** A stored scope (NULL columns: no limit); shared with the PostgreSQL key store. */
export function scopeOf(row: { scope_bucket: string | null; scope_access: string | null }): KeyScope | undefined {
  if (row.scope_bucket === null && row.scope_access === null) return undefined;
  const access = KEY_ACCESS.includes(row.scope_access as KeyAccess) ? (row.scope_access as KeyAccess) : 'read';
  return row.scope_bucket === null ? { access } : { bucket: row.scope_bucket, access };
}

export function validateScope(scope: KeyScope): void {
  if (!KEY_ACCESS.includes(scope.access)) throw new Error(`a key's access is one of ${KEY_ACCESS.join(', ')}, got "${String(scope.access)}"`);
  if (scope.bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(scope.bucket)) throw new Error(`"${scope.bucket}" is not a bucket name`);
}
