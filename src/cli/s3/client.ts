/** Connection options shared by every bucket command, and the S3 client built from them. */
import { S3Client } from '@aws-sdk/client-s3';
import { Option, type Command } from 'commander';
import { usage } from './errors.js';

export interface ConnectionOptions {
  endpoint?: string;
  region?: string;
  profile?: string;
}

/** Adds --endpoint, --region and --profile to a command (they also work before the command name). */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--endpoint <url>', 'S3 endpoint URL (R2, MinIO, offload serve...); path-style addressing is used').env('AWS_ENDPOINT_URL'))
    .addOption(new Option('--region <region>', 'region (default: AWS_REGION, the profile, or us-east-1 with --endpoint)'))
    .addOption(new Option('--profile <name>', 'profile from ~/.aws/config and ~/.aws/credentials').env('AWS_PROFILE'));
}

/** Options of the command merged with any given on the program itself. */
export function connectionOf(cmd: Command): ConnectionOptions {
  const all = cmd.optsWithGlobals<ConnectionOptions>();
  return { endpoint: all.endpoint, region: all.region, profile: all.profile };
}

export function makeClient(opts: ConnectionOptions, maxAttempts = 5): S3Client {
  // Errors are one line each: no multi-line SDK notices about future Node versions.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = opts.endpoint || process.env.AWS_ENDPOINT_URL_S3 || undefined;
  if (endpoint) checkEndpoint(endpoint);
  const region = opts.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined);
  return new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(region ? { region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    maxAttempts,
    retryMode: 'adaptive',
    // Only the checksums S3 requires: keeps older S3-compatible servers (and proxies) happy.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * The endpoint must be a service's root: with a path (`http://host:9000/media`) the SDK would put
 * the bucket after it and every request would miss (NoSuchKey), so it is refused up front.
 */
export function checkEndpoint(endpoint: string): void {
  if (!/^https?:\/\/[^/]/i.test(endpoint)) usage(`--endpoint must be an http:// or https:// URL, got ${endpoint}`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    usage(`--endpoint is not a valid URL: ${endpoint}`);
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    usage(`--endpoint must be the service's root URL without a path (${url.origin}), got ${endpoint}; name the bucket in the s3:// URL instead`);
  }
}
