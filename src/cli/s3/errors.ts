/** Error helpers for the upload CLI: one-line messages, usage errors, retry classification. */

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Throws a UsageError after setting exit code 2 (main.ts keeps a non-zero exit code it finds). */
export function usage(message: string): never {
  process.exitCode = 2;
  throw new UsageError(message);
}

/** What to do when neither an endpoint nor a region is known (the SDK only says "Region is missing"). */
export const MISSING_REGION =
  'no endpoint or region: give --endpoint URL (or set AWS_ENDPOINT_URL) for offload serve, R2, MinIO and other S3-compatible services, or --region (AWS_REGION, or a profile with a region) for AWS S3';

export function isMissingRegion(err: unknown): boolean {
  // An empty AWS_REGION reaches the SDK as region "".
  return err instanceof Error && /^Region is missing|^Region not accepted: region="" /.test(err.message);
}

export function missingBucket(bucket: string): string {
  return `the bucket ${bucket} does not exist (create it with \`offload mb s3://${bucket}\`)`;
}

interface SdkLikeError {
  name?: string;
  BucketName?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function asSdk(err: unknown): SdkLikeError {
  return typeof err === 'object' && err !== null ? (err as SdkLikeError) : {};
}

/** The bucket a NoSuchBucket error names, if the service said (AWS and offload serve do, in the XML body). */
export function errorBucket(err: unknown): string | undefined {
  return asSdk(err).BucketName;
}

/** The S3 error code (e.g. NoSuchBucket), or the Node error code (e.g. ENOENT), if any. */
export function errorCode(err: unknown): string | undefined {
  const e = asSdk(err);
  return e.Code ?? e.code ?? (e.name && e.name !== 'Error' ? e.name : undefined);
}

export function httpStatus(err: unknown): number | undefined {
  return asSdk(err).$metadata?.httpStatusCode;
}

const FRIENDLY: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist',
  AccessDenied: 'access denied (check credentials and bucket policy)',
  InvalidAccessKeyId: 'the access key id is not known to this endpoint',
  SignatureDoesNotMatch: 'the secret key does not match the access key (or the endpoint/region is wrong)',
  CredentialsProviderError: 'no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or use --profile)',
  AccessControlListNotSupported:
    'this bucket does not accept ACLs (Object Ownership "bucket owner enforced"); drop --public and run `offload public s3://BUCKET` to make it readable by a bucket policy instead',
  BucketAlreadyOwnedByYou: 'you already own this bucket',
  BucketAlreadyExists: 'the bucket name is taken',
  BucketNotEmpty: 'the bucket is not empty (use --force to delete its objects first)',
  ECONNREFUSED: 'connection refused (is the endpoint right and the server running?)',
  ENOTFOUND: 'host not found (check --endpoint)',
};

/** One line describing an error, without stack traces. */
export function describeError(err: unknown): string {
  if (isMissingRegion(err)) return MISSING_REGION;
  const code = errorCode(err);
  const e = asSdk(err);
  if (code === 'NoSuchBucket' && e.BucketName) return missingBucket(e.BucketName);
  const friendly = code ? FRIENDLY[code] : undefined;
  let message = friendly ?? (e.message && e.message !== 'UnknownError' ? e.message : undefined);
  if (!message) {
    const status = httpStatus(err);
    message = status ? `HTTP ${status}${code ? ` ${code}` : ''}` : String(code ?? err);
  } else if (code && !friendly && !message.includes(code) && /^[A-Z][A-Za-z]+$/.test(code)) {
    message = `${code}: ${message}`;
  }
  return message.split('\n')[0]!.trim();
}

const RETRYABLE_CODES = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError',
  'ServiceUnavailable', 'RequestLimitExceeded', 'TooManyRequestsException', 'TimeoutError', 'RequestTimeoutException',
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'NetworkingError', 'BadDigest', 'IncompleteBody',
]);

/** Throttling, 5xx and dropped connections are worth another try; 4xx and local errors are not. */
export function isRetryable(err: unknown): boolean {
  const status = httpStatus(err);
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  const code = errorCode(err);
  if (code && RETRYABLE_CODES.has(code)) return true;
  const e = asSdk(err);
  if (e.$retryable) return true;
  const message = e.message ?? '';
  return /socket hang up|ECONNRESET|EPIPE|network|premature close|aborted/i.test(message) && status === undefined;
}
