/**
 * Buckets and their configuration documents in PostgreSQL. Reads answer from PgState (loaded
 * by refresh(), at the start of every request); each write commits with the bucket counter
 * bumped, then reloads that state, so the writer's next read sees its own write.
 */
import { StoreError, type Acl, type BucketConfigKind, type BucketInfo } from '../types.js';
import type { PgBlobs } from './blob-gc.js';
import type { PgDb } from './db.js';
import type { PgMultipart } from './multipart.js';
import type { PgState } from './state.js';

export class PgBuckets {
  constructor(private readonly db: PgDb, private readonly state: PgState, private readonly blobs: PgBlobs, private readonly multipart: () => PgMultipart) {}

  async create(input: { name: string; owner: string; region: string; acl: Acl }): Promise<BucketInfo> {
    const info: BucketInfo = { ...input, createdAt: Date.now() };
    await this.db.tx(async (sql) => {
      const { rowCount } = await sql.query('INSERT INTO buckets (name, owner, created_at, region, acl) VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING', [info.name, info.owner, info.createdAt, info.region, JSON.stringify(info.acl)]);
      if (rowCount !== 1) throw new StoreError('BucketAlreadyExists');
      await sql.query("SELECT offload_changed('buckets')");
    });
    await this.state.bucketsChanged();
    return info;
  }

  async delete(name: string): Promise<void> {
    await this.db.tx(async (sql) => {
      // Locked first: an object or upload another node is inserting waits for us (its foreign
      // key check), then finds the bucket gone.
      const { rowCount } = await sql.query('SELECT 1 FROM buckets WHERE name = $1 FOR UPDATE', [name]);
      if (rowCount !== 1) throw new StoreError('NoSuchBucket');
      const any = await sql.query('SELECT 1 FROM objects WHERE bucket = $1 LIMIT 1', [name]);
      if (any.rowCount) throw new StoreError('BucketNotEmpty');
      // As on S3, uploads still in progress do not keep a bucket alive: they are aborted with it.
      await this.multipart().dropAllInTx(sql, name);
      await sql.query('DELETE FROM buckets WHERE name = $1', [name]);
      await sql.query("SELECT offload_changed('buckets')");
    });
    this.blobs.released();
    await this.state.bucketsChanged();
  }

  async setAcl(name: string, acl: Acl): Promise<void> {
    await this.db.tx(async (sql) => {
      const { rowCount } = await sql.query('UPDATE buckets SET acl = $2::jsonb WHERE name = $1', [name, JSON.stringify(acl)]);
      if (rowCount !== 1) throw new StoreError('NoSuchBucket');
      await sql.query("SELECT offload_changed('buckets')");
    });
    await this.state.bucketsChanged();
  }

  async setConfig(name: string, kind: BucketConfigKind, value: string | undefined): Promise<void> {
    await this.db.tx(async (sql) => {
      const { rowCount } = await sql.query('SELECT 1 FROM buckets WHERE name = $1 FOR KEY SHARE', [name]);
      if (rowCount !== 1) throw new StoreError('NoSuchBucket');
      if (value === undefined) await sql.query('DELETE FROM bucket_configs WHERE bucket = $1 AND kind = $2', [name, kind]);
      else await sql.query('INSERT INTO bucket_configs (bucket, kind, value) VALUES ($1, $2, $3) ON CONFLICT (bucket, kind) DO UPDATE SET value = EXCLUDED.value', [name, kind, value]);
      await sql.query("SELECT offload_changed('buckets')");
    });
    await this.state.bucketsChanged();
  }

  async hasObjects(name: string): Promise<boolean> {
    const { rowCount } = await this.db.read('SELECT 1 FROM objects WHERE bucket = $1 LIMIT 1', [name]);
    return rowCount === 1;
  }
}
