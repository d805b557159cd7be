/** Glue shared by the transfer commands: client, reporter, state file, exit code. */
import type { Command } from 'commander';
import { describeError, errorBucket, errorCode, isMissingRegion, MISSING_REGION, missingBucket, usage, UsageError } from './errors.js';
import { isS3Url } from './keys.js';
import { connectionOf, makeClient } from './client.js';
import type { S3Location } from './keys.js';
import type { SyncOptions, TransferOptions } from './options.js';
import { Reporter } from './report.js';
import { stateFileFor } from './state.js';

export function reporterFor(opts: TransferOptions): Reporter {
  return new Reporter({ json: !!opts.json, dryRun: !!opts.dryRun, quiet: !!opts.quiet, progress: opts.progress === false ? false : undefined });
}

export function clientFor(cmd: Command) {
  const conn = connectionOf(cmd);
  return { conn, client: makeClient(conn) };
}

/** The state file for a sync touching this bucket, honouring --state FILE and --no-state. */
export function stateFileOf(opts: Pick<SyncOptions, 'state'>, endpoint: string | undefined, bucket: S3Location | undefined): string | undefined {
  if (opts.state === false || !bucket) return undefined;
  if (typeof opts.state === 'string') return opts.state;
  return stateFileFor(endpoint ?? process.env.AWS_ENDPOINT_URL, bucket.bucket);
}

/** Prints the summary and sets a non-zero exit code when anything failed. */
export function finish(reporter: Reporter): void {
  reporter.finish();
  if (reporter.failed > 0) process.exitCode = 1;
}

export const CONNECTION_HELP = `
Connection:
  Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
  --profile / AWS_PROFILE, SSO, instance roles). --endpoint (or AWS_ENDPOINT_URL) points at any
  S3-compatible service (R2, MinIO, offload serve) and switches to path-style addressing.`;

/**
 * Wraps a command action so any failure reaches main() as one readable line (S3 error codes
 * turned into advice); usage errors pass through unchanged.
 */
export function friendly<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      if (isMissingRegion(err)) usage(MISSING_REGION);
      if (errorCode(err) === 'NoSuchBucket') throw new Error(missingBucketOf(err, args), { cause: err });
      throw new Error(describeError(err), { cause: err });
    }
  };
}

/** Names the missing bucket: from the error when the service says, else from the command's s3:// arguments. */
function missingBucketOf(err: unknown, args: unknown[]): string {
  const named = errorBucket(err);
  if (named) return missingBucket(named);
  const buckets = [...new Set(args.filter((a): a is string => typeof a === 'string' && isS3Url(a)).map((a) => a.slice(5).split('/')[0]!))];
  if (buckets.length === 1) return missingBucket(buckets[0]!);
  return buckets.length > 1 ? `one of the buckets ${buckets.join(', ')} does not exist` : describeError(err);
}
