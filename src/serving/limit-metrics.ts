/**
 * The limits' part of /_offload/metrics: throttled requests by reason, and each limited bucket's
 * configured limits, quotas and transfer this month. Throttling counts and transfer are this
 * server process's own (with --workers, each worker limits and counts the requests it answers);
 * quota use is the metadata store's, exact across processes and nodes.
 */
import type { RequestLimiter } from '../s3/limits/limiter.js';
import { bucketLimits } from '../s3/limits/bucket-limits.js';
import { allQuotaUse } from '../s3/limits/quota.js';
import type { Store } from '../storage/types.js';

const REASONS = ['key_rps', 'anonymous_rps', 'key_bandwidth', 'anonymous_bandwidth', 'bucket_rps', 'bucket_anonymous_rps', 'bucket_bandwidth', 'transfer_budget'] as const;

export async function limitMetrics(limiter: RequestLimiter, store: Store): Promise<string> {
  // The buckets and their limits as other processes (workers, --meta nodes) left them.
  await store.refresh();
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family('offload_throttled_requests_total', 'counter', 'Requests refused by a rate limit (503 SlowDown) or a spent transfer budget, by reason.');
  for (const reason of REASONS) out.push(`offload_throttled_requests_total{reason="${reason}"} ${limiter.throttled.get(reason) ?? 0}`);
  const limited = store.listBuckets().map((b) => ({ name: b.name, limits: bucketLimits(store, b.name) })).filter((b) => b.limits !== undefined);
  family('offload_bucket_limit', 'gauge', 'A bucket\'s configured limit or quota, by kind (rps, anonymous_rps, bandwidth_bytes, max_bytes, max_objects, monthly_transfer_bytes).');
  for (const { name, limits } of limited) {
    const kinds: [string, number | undefined][] = [['rps', limits!.rps], ['anonymous_rps', limits!.anonymousRps], ['bandwidth_bytes', limits!.bandwidth], ['max_bytes', limits!.maxBytes], ['max_objects', limits!.maxObjects], ['monthly_transfer_bytes', limits!.monthlyTransfer]];
    for (const [kind, value] of kinds) if (value !== undefined) out.push(`offload_bucket_limit{bucket="${esc(name)}",kind="${kind}"} ${value}`);
  }
  family('offload_bucket_transfer_month_bytes', 'gauge', 'Response bytes sent this calendar month (UTC) by buckets with a monthly transfer budget.');
  for (const { name, limits } of limited) if (limits!.monthlyTransfer !== undefined) out.push(`offload_bucket_transfer_month_bytes{bucket="${esc(name)}"} ${limiter.sentThisMonth(name)}`);
  const quotas = await allQuotaUse(store);
  family('offload_bucket_quota_used_bytes', 'gauge', 'Bytes a bucket with a quota stores (every version), as its quota counts them.');
  for (const q of quotas.values()) out.push(`offload_bucket_quota_used_bytes{bucket="${esc(q.bucket)}"} ${q.bytes}`);
  family('offload_bucket_quota_used_objects', 'gauge', 'Objects (versions) a bucket with a quota stores, as its quota counts them.');
  for (const q of quotas.values()) out.push(`offload_bucket_quota_used_objects{bucket="${esc(q.bucket)}"} ${q.objects}`);
  return out.join('\n') + '\n';
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
