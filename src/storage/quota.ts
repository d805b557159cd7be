/**
 * Bucket quotas (the 'limits' configuration's maxBytes and maxObjects), as both metadata stores
 * enforce them: a per-bucket usage total in the metadata database, kept by triggers on the object
 * tables in the same transaction as every object row change, and checked there. A write that
 * would take the bucket past a limit fails inside its own commit (nothing is committed), so the
 * check holds across every process and node writing to the same database.
 *
 * What counts: every stored version (current and noncurrent; delete markers hold no bytes and are
 * not objects), a completed multipart object as its size. Parts of uploads still in progress do
 * not count (as on MinIO): CompleteMultipartUpload is the write that is checked.
 * The quota row follows the 'limits' configuration (a trigger on the configurations table): set
 * with it, its usage counted from the bucket's rows in that same transaction; dropped with it.
 *
 * SQLite: quota-sql.ts; PostgreSQL: postgres/quota.ts.
 */
import { S3Error } from '../errors/s3-error.js';

/** A bucket with a quota: its limits and what it stores now, as the store's commits keep it. */
export interface BucketQuotaUse {
  bucket: string;
  bytes: number;
  objects: number;
  maxBytes?: number;
  maxObjects?: number;
}

/** The Store's part (types.ts). */
export interface StoreQuotas {
  /**
   * The store enforces the 'limits' configuration's maxBytes and maxObjects inside each write's
   * commit: putObject, copyObject and completeMultipartUpload throw S3Error XOffloadQuotaExceeded
   * (nothing committed, the new bytes reclaimed). This answers the usage so counted, exact across
   * processes: one bucket's (none without a quota), or every bucket's with a quota.
   */
  quotaUsage(bucket?: string): Promise<BucketQuotaUse[]>;
}

/** Whether a 'limits' document sets a quota (maxBytes or maxObjects). */
export function setsQuota(limits: string | undefined): boolean {
  if (limits === undefined) return false;
  let quota = parsed.get(limits);
  if (quota === undefined) {
    if (parsed.size > 1000) parsed.clear();
    const doc = JSON.parse(limits) as { maxBytes?: unknown; maxObjects?: unknown };
    parsed.set(limits, (quota = doc.maxBytes != null || doc.maxObjects != null));
  }
  return quota;
}
const parsed = new Map<string, boolean>();

/** The S3 error of a write refused by a quota; message: the database's, naming the limit. */
export function quotaExceeded(bucket: string, message: string): S3Error {
  return new S3Error('XOffloadQuotaExceeded', message, { BucketName: bucket });
}

export function quotaUseOf(row: { bucket: string; bytes: number | string; objects: number | string; max_bytes: number | string | null; max_objects: number | string | null }): BucketQuotaUse {
  return {
    bucket: row.bucket,
    bytes: Number(row.bytes),
    objects: Number(row.objects),
    ...(row.max_bytes !== null && { maxBytes: Number(row.max_bytes) }),
    ...(row.max_objects !== null && { maxObjects: Number(row.max_objects) }),
  };
}
