/** Buckets and their configuration documents (policy, CORS, website, ...), cached per process (meta-cache.ts). */
import type { Statement } from 'better-sqlite3';
import type { Commits } from './commit.js';
import type { MetaCache } from './meta-cache.js';
import type { Db } from './schema.js';
import { StoreError, type Acl, type BucketConfigKind, type BucketInfo } from './types.js';

type BucketRow = { name: string; owner: string; created_at: number; region: string; acl: string };

export class Buckets {
  private readonly sql: {
    get: Statement<[string], BucketRow>;
    list: Statement<[], BucketRow>;
    insert: Statement;
    remove: Statement;
    removeConfigs: Statement;
    setAcl: Statement;
    getConfig: Statement<[string, string], { value: string }>;
    putConfig: Statement;
    removeConfig: Statement;
    anyObject: Statement<[string, string], { one: number }>;
  };

  /** dropUploads: inside the deleting transaction, aborts the bucket's multipart uploads. */
  constructor(db: Db, private readonly commits: Commits, private readonly cache: MetaCache, private readonly dropUploads: (bucket: string) => void) {
    this.sql = {
      get: db.prepare('SELECT * FROM buckets WHERE name = ?'),
      list: db.prepare('SELECT * FROM buckets ORDER BY name'),
      insert: db.prepare('INSERT INTO buckets (name, owner, created_at, region, acl) VALUES (?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM buckets WHERE name = ?'),
      removeConfigs: db.prepare('DELETE FROM bucket_configs WHERE bucket = ?'),
      setAcl: db.prepare('UPDATE buckets SET acl = ? WHERE name = ?'),
      getConfig: db.prepare('SELECT value FROM bucket_configs WHERE bucket = ? AND kind = ?'),
      putConfig: db.prepare('INSERT OR REPLACE INTO bucket_configs (bucket, kind, value) VALUES (?, ?, ?)'),
      removeConfig: db.prepare('DELETE FROM bucket_configs WHERE bucket = ? AND kind = ?'),
      // Noncurrent versions and delete markers keep a bucket from being empty too, as on S3.
      anyObject: db.prepare('SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?) OR EXISTS (SELECT 1 FROM versions WHERE bucket = ?) AS one'),
    };
  }

  async create(input: { name: string; owner: string; region: string; acl: Acl }): Promise<BucketInfo> {
    if (this.get(input.name)) throw new StoreError('BucketAlreadyExists');
    const info: BucketInfo = { ...input, createdAt: Date.now() };
    this.cache.forgetAll();
    try {
      this.sql.insert.run(info.name, info.owner, info.createdAt, info.region, JSON.stringify(info.acl));
    } catch (err) {
      // Another worker created it between our check and our insert.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreError('BucketAlreadyExists');
      throw err;
    }
    return info;
  }

  get(name: string): BucketInfo | undefined {
    const cached = this.cache.bucket(name);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.sql.get.get(name);
    const info = row && infoOf(row);
    this.cache.setBucket(name, info);
    return info;
  }

  list(): BucketInfo[] {
    return this.sql.list.all().map(infoOf);
  }

  async delete(name: string): Promise<void> {
    this.cache.forgetAll();
    this.commits.transaction(() => {
      if (!this.get(name)) throw new StoreError('NoSuchBucket');
      if (this.sql.anyObject.get(name, name)?.one) throw new StoreError('BucketNotEmpty');
      // As on S3, uploads still in progress do not keep a bucket alive: they are aborted with it.
      this.dropUploads(name);
      this.sql.removeConfigs.run(name);
      this.sql.remove.run(name);
    });
    this.cache.forgetAll();
  }

  async setAcl(name: string, acl: Acl): Promise<void> {
    this.cache.forgetAll();
    if (this.sql.setAcl.run(JSON.stringify(acl), name).changes === 0) throw new StoreError('NoSuchBucket');
  }

  getConfig(name: string, kind: BucketConfigKind): string | undefined {
    const id = `${name}\0${kind}`;
    const cached = this.cache.config(id);
    if (cached !== undefined) return cached ?? undefined;
    const value = this.sql.getConfig.get(name, kind)?.value;
    this.cache.setConfig(id, value);
    return value;
  }

  async setConfig(name: string, kind: BucketConfigKind, value: string | undefined): Promise<void> {
    if (!this.get(name)) throw new StoreError('NoSuchBucket');
    this.cache.forgetAll();
    if (value === undefined) this.sql.removeConfig.run(name, kind);
    else this.sql.putConfig.run(name, kind, value);
  }

  hasObjects(name: string): boolean {
    return this.sql.anyObject.get(name, name)?.one === 1;
  }
}

function infoOf(row: BucketRow): BucketInfo {
  return { name: row.name, owner: row.owner, createdAt: row.created_at, region: row.region, acl: JSON.parse(row.acl) as Acl };
}
