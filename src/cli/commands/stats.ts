/**
 * `offload stats s3://bucket[/prefix]`: a bucket's usage from an Offload server
 * (GET /_offload/stats/<bucket>, signed with SigV4 by the root credentials): the most requested
 * and most bandwidth-heavy files, totals per day, and the monthly cost at given prices.
 */
import { Command } from 'commander';
import { addAdminOptions, adminConnection, jsonOrThrow, signedRequest, type AdminConnection } from '../admin-client.js';
import { parseS3Url } from '../s3/keys.js';
import { monthlyCost, PRICES_2006, type Prices } from '../../serving/cost.js';
import { formatStatsReport } from '../../serving/stats-format.js';
import type { StatsReport } from '../../serving/stats-report.js';
import type { BucketLimits } from '../../s3/limits/bucket-limits.js';
import { formatLimits } from './bucket-limits.js';

interface StatsCliOptions {
  prefix?: string;
  since: string;
  top: string;
  json?: boolean;
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  priceStorage: string;
  priceTransfer: string;
  priceRequests: string;
}

export function statsCommand(): Command {
  // The server connection options (--endpoint, --region, --access-key, --secret-key) are the admin client's.
  return addAdminOptions(new Command('stats')
    .description('Usage of a bucket on an Offload server: top files by requests and bandwidth, totals per day, monthly cost')
    .argument('<url>', 's3://bucket[/prefix]')
    .option('--prefix <prefix>', 'only keys under this prefix (overrides the one in the URL)')
    .option('--since <period>', 'period to report: 7d, 24h, 90m...', '7d')
    .option('--top <n>', 'how many files per list', '20')
    .option('--json', 'print the report and the cost estimate as one JSON object')
    .option('--price-storage <usd>', '$ per GB-month stored', String(PRICES_2006.storagePerGbMonth))
    .option('--price-transfer <usd>', '$ per GB sent', String(PRICES_2006.transferPerGb))
    .option('--price-requests <usd>', '$ per 1,000 PUT and per 10,000 GET requests', String(PRICES_2006.requests))
    .addHelpText('after', `
Prices default to S3's original (2006) list: $0.15 per GB-month stored, $0.20 per GB transferred,
$0.01 per 1,000 PUT and per 10,000 GET requests. Transfer and requests of the period are scaled
to a 30-day month; storage is what the bucket (or prefix) holds now. GB = 2^30 bytes.

Examples:
  offload stats s3://media --endpoint http://localhost:9000
  offload stats s3://media/img/ --since 30d --top 10
  offload stats s3://media --json --price-transfer 0.09`)
    .action(async (url: string, opts: StatsCliOptions) => {
      const loc = parseS3Url(url);
      const prices: Prices = {
        storagePerGbMonth: price('--price-storage', opts.priceStorage),
        transferPerGb: price('--price-transfer', opts.priceTransfer),
        requests: price('--price-requests', opts.priceRequests),
      };
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1 || top > 1000) throw new Error(`--top must be a whole number from 1 to 1000, got "${opts.top}"`);
      const report = await fetchStats({
        ...adminConnection(opts),
        bucket: loc.bucket,
        query: { prefix: opts.prefix ?? loc.prefix, since: opts.since, top: String(top) },
      });
      const cost = monthlyCost(report, prices);
      const { limits, quotaUse, transferThisMonth } = (await fetchLimits(adminConnection(opts), loc.bucket)) ?? {};
      if (opts.json) process.stdout.write(JSON.stringify({ ...report, prices, cost, ...(limits && Object.keys(limits).length > 0 && { limits }), ...(quotaUse && { quotaUse }), ...(transferThisMonth !== undefined && { transferThisMonth }) }, null, 2) + '\n');
      else process.stdout.write(formatStatsReport(report, cost) + (limits && Object.keys(limits).length > 0 ? formatLimits(`Limits and quotas of ${loc.bucket}`, limits) + formatQuotaUse(limits, quotaUse) + formatTransfer(limits, transferThisMonth) : ''));
    }));
}

function price(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a price in dollars, got "${value}"`);
  return n;
}

type QuotaUse = { bytes: number; objects: number };

/** The bucket's limits and quotas, and its quota use; undefined from a server without the limits endpoint. */
async function fetchLimits(conn: AdminConnection, bucket: string): Promise<{ limits: BucketLimits; quotaUse?: QuotaUse; transferThisMonth?: number } | undefined> {
  const res = await signedGet(conn, `/_offload/buckets/${encodeURIComponent(bucket)}/limits`);
  if (res.status === 404) return undefined;
  return jsonOrThrow<{ limits: BucketLimits; quotaUse?: QuotaUse; transferThisMonth?: number }>(res, conn.endpoint);
}

/** What the bucket's quota counts now (every version), against its limits. */
function formatQuotaUse(limits: BucketLimits, use: QuotaUse | undefined): string {
  if (!use) return '';
  const of = (limit: number | undefined) => (limit === undefined ? '' : ` of ${limit}`);
  return `  quota use: ${use.bytes}${of(limits.maxBytes)} bytes, ${use.objects}${of(limits.maxObjects)} objects\n`;
}

export interface StatsRequest extends AdminConnection {
  bucket: string;
  query: Record<string, string>;
}

/** GET /_offload/stats/<bucket>, SigV4-signed; the report, or an error with the server's reason. */
export async function fetchStats(r: StatsRequest): Promise<StatsReport> {
  const res = await signedGet(r, `/_offload/stats/${encodeURIComponent(r.bucket)}`, r.query);
  return jsonOrThrow<StatsReport>(res, r.endpoint);
}

/** A GET of one of the server's own paths (e.g. /_offload/metrics), signed with SigV4. */
export function signedGet(conn: AdminConnection, path: string, query: Record<string, string> = {}): Promise<Response> {
  return signedRequest(conn, 'GET', path, { query });
}
export type { AdminConnection } from '../admin-client.js';

/** Bytes the bucket sent this month (UTC) against its monthly transfer budget. */
function formatTransfer(limits: BucketLimits, sent: number | undefined): string {
  if (sent === undefined || limits.monthlyTransfer === undefined) return '';
  return `  transfer this month: ${sent} of ${limits.monthlyTransfer} bytes (${Math.floor((sent / limits.monthlyTransfer) * 100)}%)\n`;
}
