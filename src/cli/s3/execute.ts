/**
 * Runs a plan: transfers in parallel (each retried), then — only if every transfer succeeded and
 * within --max-delete — the deletions, in DeleteObjects batches of 1000.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { unlink } from 'node:fs/promises';
import { describeError, errorCode, isMissingRegion, MISSING_REGION, missingBucket, usage } from './errors.js';
import { actionBytes, actionTarget, type DeleteAction, type Plan, type TransferAction } from './plan.js';
import type { Reporter } from './report.js';
import { runPool, Semaphore } from './retry.js';
import type { SyncState } from './state.js';
import { leanPutFor } from './lean-put.js';
import { deleteKeys, runCopy, runDownload, runHeaders, runUpload, type TransferContext } from './transfer.js';

export interface ExecuteOptions {
  client: S3Client;
  public: boolean;
  dryRun: boolean;
  concurrency: number;
  maxDelete?: number;
  state?: SyncState;
  reporter: Reporter;
}

const MAX_PARALLEL_MULTIPART = 3;

const ACL_HINT =
  'the bucket does not accept ACLs (Object Ownership is "bucket owner enforced"): run without --public and make it readable with `offload public s3://BUCKET`';

export async function executePlan(plan: Plan, opts: ExecuteOptions): Promise<void> {
  const { reporter } = opts;
  reporter.skipped(plan.skipped);
  if (opts.dryRun) {
    for (const a of plan.transfers) reporter.done(a);
    if (checkMaxDelete(plan.deletions, opts)) for (const d of plan.deletions) reporter.done(d);
    return;
  }
  reporter.start(plan.transfers.length, plan.transfers.reduce((n, a) => n + actionBytes(a), 0));
  let stop: string | undefined;
  const ctx: TransferContext = {
    client: opts.client,
    public: opts.public,
    onBytes: reporter.onBytes,
    retry: { onRetry: (err, attempt, delay) => reporter.warn(`retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1}): ${describeError(err)}`) },
    leanPut: plan.transfers.some((a) => a.op === 'upload') ? await leanPutFor(opts.client, opts.concurrency) : undefined,
  };
  let failed = 0;
  // Multipart uploads buffer a few parts each: only a couple at a time, whatever --concurrency says.
  const large = new Semaphore(MAX_PARALLEL_MULTIPART);
  await runPool(plan.transfers, opts.concurrency, async (a) => {
    if (stop) return;
    try {
      if (a.op === 'upload' && a.partSize !== undefined) await large.use(() => runOne(a, ctx, opts.state));
      else await runOne(a, ctx, opts.state);
      reporter.done(a);
    } catch (err) {
      failed++;
      if (isMissingRegion(err)) {
        stop = 'region';
        return;
      }
      if (errorCode(err) === 'AccessControlListNotSupported') {
        if (!stop) reporter.fail(a.bucket, ACL_HINT.replace('BUCKET', a.bucket));
        stop = 'acl';
        return;
      }
      if (errorCode(err) === 'NoSuchBucket') {
        if (!stop) reporter.fail(`s3://${a.bucket}`, missingBucket(a.bucket));
        stop = 'bucket';
        return;
      }
      reporter.fail(actionTarget(a), describeError(err));
    }
  });
  // A setting that fails every request: one usage error instead of one failure per file.
  if (stop === 'region') usage(MISSING_REGION);
  if (plan.deletions.length === 0) return;
  if (failed > 0 || stop) {
    reporter.warn(`not deleting ${plan.deletions.length} file(s) because some transfers failed`);
    return;
  }
  if (!checkMaxDelete(plan.deletions, opts)) return;
  await runDeletions(plan.deletions, opts);
}

async function runOne(a: TransferAction, ctx: TransferContext, state: SyncState | undefined): Promise<void> {
  switch (a.op) {
    case 'upload': {
      const { etag, md5 } = await runUpload(a, ctx);
      state?.setRemote(a.bucket, a.key, { etag, headers: a.headersHash, md5, public: ctx.public });
      if (state && a.source.kind === 'file' && a.partSize === undefined) {
        const { path, size, mtimeMs } = a.source;
        state.setLocal(path, { ...state.getLocal(path, size, mtimeMs), md5, size, mtimeMs });
      }
      return;
    }
    case 'headers': {
      const etag = await runHeaders(a, ctx);
      state?.setRemote(a.bucket, a.key, { etag, headers: a.headersHash, md5: a.md5, public: a.public });
      return;
    }
    case 'download':
      return runDownload(a, ctx);
    case 'copy':
      return runCopy(a, ctx);
  }
}

function checkMaxDelete(deletions: DeleteAction[], opts: ExecuteOptions): boolean {
  if (opts.maxDelete === undefined || deletions.length <= opts.maxDelete) return true;
  opts.reporter.fail('--max-delete', `refusing to delete ${deletions.length} file(s), more than --max-delete ${opts.maxDelete}; nothing was deleted`);
  return false;
}

async function runDeletions(deletions: DeleteAction[], opts: ExecuteOptions): Promise<void> {
  const { reporter } = opts;
  const byBucket = new Map<string, Extract<DeleteAction, { target: 's3' }>[]>();
  for (const d of deletions) {
    if (d.target === 'local') {
      try {
        await unlink(d.path);
        reporter.done(d);
      } catch (err) {
        reporter.fail(d.path, describeError(err));
      }
      continue;
    }
    const list = byBucket.get(d.bucket) ?? [];
    list.push(d);
    byBucket.set(d.bucket, list);
  }
  for (const [bucket, list] of byBucket) {
    const byKey = new Map(list.map((d) => [d.key, d]));
    const result = await deleteKeys(opts.client, bucket, [...byKey.keys()]);
    for (const key of result.deleted) {
      opts.state?.deleteRemote(bucket, key);
      reporter.done(byKey.get(key)!);
    }
    for (const f of result.failed) reporter.fail(`s3://${bucket}/${f.key}`, f.message);
  }
}
