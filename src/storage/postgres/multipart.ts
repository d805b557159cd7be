/**
 * Multipart uploads in PostgreSQL: each part is its own blob; completing makes an object whose
 * segments are the chosen parts' blobs (no byte copied), in one transaction that holds the
 * upload's row locked (FOR UPDATE): of two nodes completing the same upload one wins, the
 * other finds it gone. A part being stored meanwhile waits on that lock (its foreign key) and
 * then fails with NoSuchUpload, its blob released.
 */
import { randomBytes } from 'node:crypto';
import { StoreError, type Checksum, type MultipartUpload, type ObjectMeta, type PartInfo, type Segment, type Store } from '../types.js';
import { S3Error } from '../../errors/s3-error.js';
import type { PgBlobs } from './blob-gc.js';
import type { PgDb, Sql } from './db.js';
import { noBucketOnForeignKey, replaceInTx } from './objects.js';
import type { PgState } from './state.js';

export class PgMultipart {
  constructor(private readonly db: PgDb, private readonly state: PgState, private readonly blobs: PgBlobs) {}

  async create(input: Omit<MultipartUpload, 'uploadId' | 'initiated'>): Promise<MultipartUpload> {
    if (!this.state.bucket(input.bucket)) throw new StoreError('NoSuchBucket');
    const upload: MultipartUpload = { ...input, uploadId: randomBytes(24).toString('base64url'), initiated: Date.now() };
    await this.db
      .query('INSERT INTO uploads (upload_id, bucket, key, initiated, data) VALUES ($1, $2, $3, $4, $5::jsonb)', [upload.uploadId, upload.bucket, upload.key, upload.initiated, JSON.stringify(upload)])
      .catch(noBucketOnForeignKey);
    return upload;
  }

  async get(bucket: string, uploadId: string): Promise<MultipartUpload | undefined> {
    const { rows } = await this.db.read<{ bucket: string; data: MultipartUpload }>('SELECT bucket, data FROM uploads WHERE upload_id = $1', [uploadId]);
    return rows[0] && rows[0].bucket === bucket ? rows[0].data : undefined;
  }

  private async exists(uploadId: string): Promise<boolean> {
    return (await this.db.read('SELECT 1 FROM uploads WHERE upload_id = $1', [uploadId])).rowCount === 1;
  }

  async putPart(input: Parameters<Store['putPart']>[0]): Promise<PartInfo> {
    if (!(await this.exists(input.uploadId))) {
      input.body.resume();
      throw new StoreError('NoSuchUpload');
    }
    const blob = await this.blobs.write(input.body, false, input.encryption);
    try {
      await input.beforeCommit?.({ md5: blob.md5, size: blob.size });
      await this.blobs.place(blob);
      const part: PartInfo = {
        partNumber: input.partNumber,
        size: blob.size,
        etag: `"${blob.md5.toString('hex')}"`,
        lastModified: Date.now(),
        checksum: input.checksum,
        segment: blob.size === 0 ? { blobId: '', size: 0 } : { blobId: blob.id, size: blob.size, ...(blob.enc && { enc: blob.enc }) },
      };
      await this.db.tx(async (sql) => {
        if (blob.size > 0) {
          const taken = await sql.query('UPDATE blobs SET refs = 1, since = NULL WHERE id = $1 AND refs = 0', [blob.id]);
          if (taken.rowCount !== 1) throw new S3Error('ServiceUnavailable', 'The part took longer than the blob grace period between its bytes and its commit; retry it.');
        }
        for (;;) {
          const inserted = await sql
            .query('INSERT INTO parts (upload_id, part_number, data) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING', [input.uploadId, input.partNumber, JSON.stringify(part)])
            .catch((err: unknown) => {
              if ((err as { code?: string }).code === '23503') throw new StoreError('NoSuchUpload');
              throw err;
            });
          if (inserted.rowCount === 1) return;
          // Replacing a part: lock the earlier one, release its blob.
          const { rows } = await sql.query<{ data: PartInfo }>('SELECT data FROM parts WHERE upload_id = $1 AND part_number = $2 FOR UPDATE', [input.uploadId, input.partNumber]);
          if (!rows[0]) continue;
          await sql.query('UPDATE parts SET data = $3::jsonb WHERE upload_id = $1 AND part_number = $2', [input.uploadId, input.partNumber, JSON.stringify(part)]);
          await unrefParts(sql, [rows[0].data]);
          return;
        }
      });
      this.blobs.released();
      return part;
    } catch (err) {
      await this.blobs.abandon(blob, err);
      throw err;
    }
  }

  async listParts(uploadId: string, input: { after?: number; maxParts: number }): Promise<{ parts: PartInfo[]; isTruncated: boolean }> {
    if (!(await this.exists(uploadId))) throw new StoreError('NoSuchUpload');
    const { rows } = await this.db.read<{ data: PartInfo }>('SELECT data FROM parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3', [uploadId, input.after ?? 0, input.maxParts + 1]);
    return { parts: rows.slice(0, input.maxParts).map((r) => r.data), isTruncated: rows.length > input.maxParts };
  }

  async listUploads(bucket: string, input: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number }): Promise<{ uploads: MultipartUpload[]; isTruncated: boolean }> {
    if (!this.state.bucket(bucket)) throw new StoreError('NoSuchBucket');
    const prefix = input.prefix ?? '';
    const keyMarker = input.keyMarker ?? '';
    // Without an upload-id marker, the key marker excludes every upload of that key.
    const idMarker = input.keyMarker !== undefined && input.uploadIdMarker === undefined ? '\u{10FFFF}' : (input.uploadIdMarker ?? '');
    const start = prefix > keyMarker ? prefix : keyMarker;
    const { rows } = await this.db.read<{ key: string; data: MultipartUpload }>(
      'SELECT key, data FROM uploads WHERE bucket = $1 AND key >= $2 AND (key > $3 OR upload_id > $4) ORDER BY key, upload_id LIMIT $5',
      [bucket, start, keyMarker, idMarker, input.maxUploads + 1],
    );
    const matching = rows.filter((r) => r.key.startsWith(prefix));
    return { uploads: matching.slice(0, input.maxUploads).map((r) => r.data), isTruncated: matching.length > input.maxUploads };
  }

  async complete(input: { uploadId: string; parts: { partNumber: number; size: number; segment: Segment }[]; etag: string; checksum?: Checksum; precondition?: (current: ObjectMeta | undefined) => void }): Promise<ObjectMeta> {
    const meta = await this.db.tx(async (sql) => {
      const { rows } = await sql.query<{ data: MultipartUpload }>('SELECT data FROM uploads WHERE upload_id = $1 FOR UPDATE', [input.uploadId]);
      const upload = rows[0]?.data;
      if (!upload) throw new StoreError('NoSuchUpload');
      if (!this.state.bucket(upload.bucket)) throw new StoreError('NoSuchBucket');
      const stored = new Map((await sql.query<{ data: PartInfo }>('SELECT data FROM parts WHERE upload_id = $1', [input.uploadId])).rows.map((r) => [r.data.partNumber, r.data]));
      const chosen = new Set<number>();
      for (const p of input.parts) {
        if (stored.get(p.partNumber)?.segment.blobId !== p.segment.blobId) throw new StoreError('InvalidPart');
        chosen.add(p.partNumber);
      }
      const meta: ObjectMeta = {
        ...upload.headers,
        bucket: upload.bucket,
        key: upload.key,
        size: input.parts.reduce((n, p) => n + p.size, 0),
        etag: input.etag,
        lastModified: Date.now(),
        owner: upload.owner,
        acl: upload.acl,
        tags: upload.tags,
        checksum: input.checksum,
        partSizes: input.parts.map((p) => p.size),
        // The stored parts' segments: their data keys come from the database, not from the caller.
        segments: input.parts.filter((p) => p.size > 0).map((p) => stored.get(p.partNumber)!.segment),
        ...(upload.sse && { sse: upload.sse }),
      };
      await replaceInTx(sql, meta, input.precondition);
      // The chosen parts' references pass to the object; the others are released.
      await unrefParts(sql, [...stored.values()].filter((p) => !chosen.has(p.partNumber)));
      await sql.query('DELETE FROM parts WHERE upload_id = $1', [input.uploadId]);
      await sql.query('DELETE FROM uploads WHERE upload_id = $1', [input.uploadId]);
      return meta;
    });
    this.state.objectChanged(meta.bucket, meta.key);
    this.blobs.released();
    return meta;
  }

  async abort(uploadId: string): Promise<void> {
    await this.db.tx(async (sql) => {
      const { rowCount } = await sql.query('SELECT 1 FROM uploads WHERE upload_id = $1 FOR UPDATE', [uploadId]);
      if (rowCount !== 1) throw new StoreError('NoSuchUpload');
      await dropInTx(sql, uploadId);
    });
    this.blobs.released();
  }

  /** Inside a transaction: aborts every upload of a bucket. */
  async dropAllInTx(sql: Sql, bucket: string): Promise<void> {
    const { rows } = await sql.query<{ upload_id: string }>('SELECT upload_id FROM uploads WHERE bucket = $1 FOR UPDATE', [bucket]);
    for (const row of rows) await dropInTx(sql, row.upload_id);
  }

  /** Aborts uploads untouched for maxAgeMs (any node may run it: a lost race is NoSuchUpload). */
  async reclaimStale(maxAgeMs: number): Promise<number> {
    const { rows } = await this.db.read<{ upload_id: string }>('SELECT upload_id FROM uploads WHERE initiated < $1', [Date.now() - maxAgeMs]);
    let n = 0;
    for (const row of rows) {
      await this.abort(row.upload_id).then(() => n++, (err: unknown) => {
        if (!(err instanceof StoreError)) throw err;
      });
    }
    return n;
  }
}

async function dropInTx(sql: Sql, uploadId: string): Promise<void> {
  const { rows } = await sql.query<{ data: PartInfo }>('DELETE FROM parts WHERE upload_id = $1 RETURNING data', [uploadId]);
  await unrefParts(sql, rows.map((r) => r.data));
  await sql.query('DELETE FROM uploads WHERE upload_id = $1', [uploadId]);
}

async function unrefParts(sql: Sql, parts: PartInfo[]): Promise<void> {
  const ids = parts.map((p) => p.segment.blobId).filter((id) => id !== '');
  if (ids.length) await sql.query('SELECT offload_unref($1)', [ids]);
}
