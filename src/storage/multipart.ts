/**
 * Multipart uploads in the engine: each part is its own blob; completing makes an object whose
 * segments are the chosen parts' blobs (no byte is copied), in the same single transaction that
 * drops the upload. Parts not chosen, aborted uploads and stale uploads release their blobs.
 */
import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Buckets } from './buckets.js';
import type { Commits } from './commit.js';
import type { Objects } from './objects.js';
import { StoreError } from './types.js';
import type { Checksum, MultipartUpload, ObjectMeta, PartInfo, Segment, Store } from './types.js';

type UploadRow = { upload_id: string; bucket: string; key: string; initiated: number; data: string };

export class Multipart {
  private readonly sql: {
    insert: Statement;
    get: Statement<[string], UploadRow>;
    remove: Statement;
    list: Statement<[string, string, string, string, number], UploadRow>;
    stale: Statement<[number], UploadRow>;
    ofBucket: Statement<[string], UploadRow>;
    getPart: Statement<[string, number], { data: string }>;
    putPart: Statement;
    parts: Statement<[string, number, number], { data: string }>;
    allParts: Statement<[string], { data: string }>;
    removeParts: Statement;
  };

  constructor(private readonly commits: Commits, private readonly buckets: Buckets, private readonly objects: Objects) {
    const db = commits.db;
    this.sql = {
      insert: db.prepare('INSERT INTO uploads (upload_id, bucket, key, initiated, data) VALUES (?, ?, ?, ?, ?)'),
      get: db.prepare('SELECT * FROM uploads WHERE upload_id = ?'),
      remove: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
      list: db.prepare('SELECT * FROM uploads WHERE bucket = ? AND key >= ? AND (key > ? OR upload_id > ?) ORDER BY key, upload_id LIMIT ?'),
      stale: db.prepare('SELECT * FROM uploads WHERE initiated < ?'),
      ofBucket: db.prepare('SELECT * FROM uploads WHERE bucket = ?'),
      getPart: db.prepare('SELECT data FROM parts WHERE upload_id = ? AND part_number = ?'),
      putPart: db.prepare('INSERT OR REPLACE INTO parts (upload_id, part_number, data) VALUES (?, ?, ?)'),
      parts: db.prepare('SELECT data FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
      allParts: db.prepare('SELECT data FROM parts WHERE upload_id = ?'),
      removeParts: db.prepare('DELETE FROM parts WHERE upload_id = ?'),
    };
  }

  async create(input: Omit<MultipartUpload, 'uploadId' | 'initiated'>): Promise<MultipartUpload> {
    if (!this.buckets.get(input.bucket)) throw new StoreError('NoSuchBucket');
    const upload: MultipartUpload = { ...input, uploadId: newUploadId(), initiated: Date.now() };
    this.sql.insert.run(upload.uploadId, upload.bucket, upload.key, upload.initiated, JSON.stringify(upload));
    return upload;
  }

  get(bucket: string, uploadId: string): MultipartUpload | undefined {
    const row = this.sql.get.get(uploadId);
    return row && row.bucket === bucket ? (JSON.parse(row.data) as MultipartUpload) : undefined;
  }

  async putPart(input: Parameters<Store['putPart']>[0]): Promise<PartInfo> {
    if (!this.sql.get.get(input.uploadId)) {
      input.body.resume();
      throw new StoreError('NoSuchUpload');
    }
    const blob = await this.commits.writeBlob(input.body, { encryption: input.encryption });
    return this.commits.commitBlob(blob, input.beforeCommit, (segments) => {
      if (!this.sql.get.get(input.uploadId)) throw new StoreError('NoSuchUpload');
      const segment: Segment = segments[0] ?? { blobId: '', size: 0 };
      const part: PartInfo = {
        partNumber: input.partNumber,
        size: blob.size,
        etag: `"${blob.md5.toString('hex')}"`,
        lastModified: Date.now(),
        checksum: input.checksum,
        segment,
      };
      const previous = this.part(input.uploadId, input.partNumber);
      this.sql.putPart.run(input.uploadId, input.partNumber, JSON.stringify(part));
      if (previous) this.commits.unref(segmentsOf(previous));
      return part;
    });
  }

  private part(uploadId: string, partNumber: number): PartInfo | undefined {
    const row = this.sql.getPart.get(uploadId, partNumber);
    return row && (JSON.parse(row.data) as PartInfo);
  }

  listParts(uploadId: string, input: { after?: number; maxParts: number }): { parts: PartInfo[]; isTruncated: boolean } {
    if (!this.sql.get.get(uploadId)) throw new StoreError('NoSuchUpload');
    const rows = this.sql.parts.all(uploadId, input.after ?? 0, input.maxParts + 1);
    const parts = rows.slice(0, input.maxParts).map((r) => JSON.parse(r.data) as PartInfo);
    return { parts, isTruncated: rows.length > input.maxParts };
  }

  listUploads(bucket: string, input: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number }): { uploads: MultipartUpload[]; isTruncated: boolean } {
    if (!this.buckets.get(bucket)) throw new StoreError('NoSuchBucket');
    const prefix = input.prefix ?? '';
    const keyMarker = input.keyMarker ?? '';
    // Without an upload-id marker, the key marker excludes every upload of that key.
    const idMarker = input.keyMarker !== undefined && input.uploadIdMarker === undefined ? '\u{10FFFF}' : (input.uploadIdMarker ?? '');
    const uploads: MultipartUpload[] = [];
    let isTruncated = false;
    const start = prefix > keyMarker ? prefix : keyMarker;
    for (const row of this.sql.list.iterate(bucket, start, keyMarker, idMarker, 1_000_000)) {
      if (!row.key.startsWith(prefix)) break;
      if (row.key === keyMarker && row.upload_id <= idMarker) continue;
      if (uploads.length >= input.maxUploads) {
        isTruncated = true;
        break;
      }
      uploads.push(JSON.parse(row.data) as MultipartUpload);
    }
    return { uploads, isTruncated };
  }

  async complete(input: { uploadId: string; parts: { partNumber: number; size: number; segment: Segment }[]; etag: string; checksum?: Checksum; precondition?: (current: ObjectMeta | undefined) => void }): Promise<ObjectMeta> {
    return this.commits.groupCommit(() => {
      const row = this.sql.get.get(input.uploadId);
      if (!row) throw new StoreError('NoSuchUpload');
      const upload = JSON.parse(row.data) as MultipartUpload;
      if (!this.buckets.get(upload.bucket)) throw new StoreError('NoSuchBucket');
      const chosen = new Set<number>();
      for (const p of input.parts) {
        const stored = this.part(input.uploadId, p.partNumber);
        if (!stored || stored.segment.blobId !== p.segment.blobId) throw new StoreError('InvalidPart');
        chosen.add(p.partNumber);
      }
      const segments = input.parts.filter((p) => p.size > 0).map((p) => p.segment);
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
        segments,
        ...(upload.sse && { sse: upload.sse }),
      };
      this.objects.replace(meta, input.precondition);
      // The chosen parts' references pass to the object; the others are released.
      for (const r of this.sql.allParts.all(input.uploadId)) {
        const part = JSON.parse(r.data) as PartInfo;
        if (!chosen.has(part.partNumber)) this.commits.unref(segmentsOf(part));
      }
      this.sql.removeParts.run(input.uploadId);
      this.sql.remove.run(input.uploadId);
      return meta;
    });
  }

  async abort(uploadId: string): Promise<void> {
    this.commits.transaction(() => {
      if (!this.sql.get.get(uploadId)) throw new StoreError('NoSuchUpload');
      this.drop(uploadId);
    });
  }

  /** Inside a transaction: aborts every upload of a bucket. */
  dropAll(bucket: string): void {
    for (const row of this.sql.ofBucket.all(bucket)) this.drop(row.upload_id);
  }

  private drop(uploadId: string): void {
    for (const r of this.sql.allParts.all(uploadId)) this.commits.unref(segmentsOf(JSON.parse(r.data) as PartInfo));
    this.sql.removeParts.run(uploadId);
    this.sql.remove.run(uploadId);
  }

  async reclaimStale(maxAgeMs: number): Promise<number> {
    if (!this.commits.db.open) return 0;
    const stale = this.sql.stale.all(Date.now() - maxAgeMs);
    for (const row of stale) this.commits.transaction(() => this.drop(row.upload_id));
    return stale.length;
  }
}

function newUploadId(): string {
  return randomBytes(24).toString('base64url');
}

function segmentsOf(part: PartInfo): Segment[] {
  return part.segment.blobId === '' ? [] : [part.segment];
}
