/**
 * Extra access keys, in the data folder's database so that `offload keys` works while the
 * server runs (SQLite WAL allows the second writer; the server reads keys on each lookup).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { openDatabase } from './schema.js';
import { PRIVATE_DIR_MODE } from './permissions.js';
import { randomAccessKeyId, randomSecret } from './credentials-gen.js';

/** An access key: the secret signs requests as the owner it names. */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** Canonical user id of the owner this key acts as. */
  owner: string;
  displayName: string;
}

/**
 * Where access keys live. Lookups are synchronous (every request's signature check); changes may
 * be asynchronous (a shared metadata database, storage/postgres/keys.ts).
 */
export interface KeyStore {
  /** `owner` keeps a key's canonical id when it is copied from another store (offload migrate). */
  createKey(input: { name: string; accessKeyId?: string; secretAccessKey?: string; owner?: string }): Credential | Promise<Credential>;
  listKeys(): Credential[] | Promise<Credential[]>;
  deleteKey(accessKeyId: string): boolean | Promise<boolean>;
  lookupKey(accessKeyId: string): Credential | undefined;
  /** The name of the key that owns this canonical id, if any. */
  nameOfOwner(owner: string): string | undefined;
  close(): void | Promise<void>;
}

/** The data folder's keys (SQLite): every call is synchronous. */
export interface LocalKeyStore extends KeyStore {
  createKey(input: { name: string; accessKeyId?: string; secretAccessKey?: string; owner?: string }): Credential;
  listKeys(): Credential[];
  deleteKey(accessKeyId: string): boolean;
  close(): void;
}

type Row = { access_key_id: string; secret: string; name: string; owner: string };

export function openKeyStore(dataDir: string): LocalKeyStore {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const db = openDatabase(dataDir);
  const insert = db.prepare('INSERT INTO access_keys (access_key_id, secret, name, owner, created_at) VALUES (?, ?, ?, ?, ?)');
  const all = db.prepare<[], Row>('SELECT * FROM access_keys ORDER BY created_at');
  const one = db.prepare<[string], Row>('SELECT * FROM access_keys WHERE access_key_id = ?');
  const remove = db.prepare('DELETE FROM access_keys WHERE access_key_id = ?');
  const byOwner = db.prepare<[string], { name: string }>('SELECT name FROM access_keys WHERE owner = ? LIMIT 1');
  const toCredential = (row: Row): Credential => ({ accessKeyId: row.access_key_id, secretAccessKey: row.secret, owner: row.owner, displayName: row.name });
  return {
    createKey({ name, accessKeyId, secretAccessKey, owner: givenOwner }) {
      const id = accessKeyId ?? randomAccessKeyId();
      const secret = secretAccessKey ?? randomSecret();
      if (!/^[A-Za-z0-9._-]{3,128}$/.test(id)) throw new Error('an access key id is 3 to 128 letters, digits, dots, dashes or underscores');
      if (secret.length < 8 || /\s/.test(secret)) throw new Error('a secret key is at least 8 characters without spaces');
      if (one.get(id)) throw new Error(`access key ${id} already exists`);
      const owner = givenOwner ?? randomBytes(32).toString('hex');
      insert.run(id, secret, name, owner, Date.now());
      return { accessKeyId: id, secretAccessKey: secret, owner, displayName: name };
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
