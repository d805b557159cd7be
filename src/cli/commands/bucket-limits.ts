/**
 * `offload bucket limits s3://bucket`: a bucket's rate limits and quotas on an Offload server
 * (admin API /_offload/buckets/<bucket>/limits; see docs/security.md).
 */
import { Command } from 'commander';
import { addAdminOptions, adminConnection, jsonOrThrow, signedRequest } from '../admin-client.js';
import { parseS3Url } from '../s3/keys.js';
import { byteRate } from '../../server/rate-limit-options.js';
import { parseByteSize } from '../../util/size.js';
import type { BucketLimits } from '../../s3/limits/bucket-limits.js';

interface LimitsOptions {
  rps?: string;
  anonymousRps?: string;
  bandwidth?: string;
  maxBytes?: string;
  maxObjects?: string;
  monthlyTransfer?: string;
  overBudget?: string;
  clear?: boolean;
  json?: boolean;
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
}

export function bucketLimitsCommand(): Command {
  const cmd = new Command('limits')
    .description('Show or change the rate limits and quotas of a bucket ("off" removes one)')
    .argument('<bucket>', 's3://bucket')
    .option('--rps <n>', 'requests per second to the bucket, all callers together')
    .option('--anonymous-rps <n>', 'anonymous requests per second to the bucket')
    .option('--bandwidth <rate>', 'body bytes per second through the bucket, e.g. 50MB/s')
    .option('--max-bytes <size>', 'quota: stored bytes, e.g. 10GiB (writes past it get 403 XOffloadQuotaExceeded)')
    .option('--max-objects <n>', 'quota: number of objects')
    .option('--monthly-transfer <size>', 'bytes sent per month (UTC) before the budget counts as spent, e.g. 500GB')
    .option('--over-budget <mode>', 'when the monthly budget is spent: warn (log and metrics) or refuse-anonymous')
    .option('--clear', 'remove every limit and quota')
    .option('--json', 'print the limits as JSON');
  addAdminOptions(cmd)
    .addHelpText('after', `
Examples:
  offload bucket limits s3://media --rps 200 --anonymous-rps 50 --bandwidth 50MB/s
  offload bucket limits s3://media --max-bytes 10GiB --max-objects 100000
  offload bucket limits s3://media --monthly-transfer 500GB --over-budget refuse-anonymous
  offload bucket limits s3://media --rps off
  offload bucket limits s3://media --clear`)
    .action(async (url: string, opts: LimitsOptions) => {
      const name = parseS3Url(url).bucket;
      const conn = adminConnection(opts);
      const path = `/_offload/buckets/${encodeURIComponent(name)}/limits`;
      let current: BucketLimits;
      if (opts.clear) {
        await jsonOrThrow(await signedRequest(conn, 'DELETE', path), conn.endpoint);
        current = {};
      } else {
        current = (await jsonOrThrow<{ limits: BucketLimits }>(await signedRequest(conn, 'GET', path), conn.endpoint)).limits;
      }
      const changes = changesFrom(opts);
      if (Object.keys(changes).length > 0) {
        const next: Record<string, unknown> = { ...current, ...changes };
        for (const [k, v] of Object.entries(next)) if (v === null) delete next[k];
        current = (await jsonOrThrow<{ limits: BucketLimits }>(await signedRequest(conn, 'PUT', path, { body: JSON.stringify(next) }), conn.endpoint)).limits;
      }
      if (opts.json) process.stdout.write(JSON.stringify({ bucket: name, limits: current }, null, 2) + '\n');
      else process.stdout.write(formatLimits(name, current));
    });
  return cmd;
}

function changesFrom(opts: LimitsOptions): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  const set = (field: string, value: string | undefined, parse: (v: string) => number) => {
    if (value === undefined) return;
    out[field] = value === 'off' ? null : parse(value);
  };
  const count = (flag: string) => (v: string) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${flag} must be a positive number or "off", got "${v}"`);
    return n;
  };
  const size = (flag: string) => (v: string) => {
    const n = parseByteSize(v);
    if (n === undefined || n <= 0) throw new Error(`${flag} must be a size such as 10GiB or "off", got "${v}"`);
    return n;
  };
  set('rps', opts.rps, count('--rps'));
  set('anonymousRps', opts.anonymousRps, count('--anonymous-rps'));
  set('bandwidth', opts.bandwidth, (v) => byteRate('--bandwidth', v));
  set('maxBytes', opts.maxBytes, size('--max-bytes'));
  set('maxObjects', opts.maxObjects, count('--max-objects'));
  set('monthlyTransfer', opts.monthlyTransfer, size('--monthly-transfer'));
  if (opts.overBudget !== undefined) out.overBudget = opts.overBudget;
  return out;
}

export function formatLimits(bucket: string, limits: BucketLimits): string {
  const lines = Object.entries(limits).map(([k, v]) => `  ${k}: ${String(v)}`);
  return lines.length === 0 ? `${bucket}: no limits or quotas\n` : `${bucket}:\n${lines.join('\n')}\n`;
}
