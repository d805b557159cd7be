/**
 * Bucket quotas (max bytes, max objects): enforced by the metadata store itself, inside each
 * write's commit (storage/quota.ts: a usage total in the metadata database, kept and checked by
 * triggers), so that they hold across the server's --workers and every --meta node. A refused
 * write fails with 403 XOffloadQuotaExceeded from the store; nothing here runs per write.
 *
 * This is what the rest of the server reads of them: the usage, exact across processes.
 */
import type { BucketQuotaUse } from '../../storage/quota.js';
import type { Store } from '../../storage/types.js';

/** The bucket's quota use (undefined: no quota set). */
export async function bucketQuotaUse(store: Store, bucket: string): Promise<BucketQuotaUse | undefined> {
  return (await store.quotaUsage(bucket))[0];
}

/** Every bucket with a quota, by name. */
export async function allQuotaUse(store: Store): Promise<Map<string, BucketQuotaUse>> {
  return new Map((await store.quotaUsage()).map((q) => [q.bucket, q]));
}
