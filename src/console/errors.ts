/**
 * The console API's errors: `{ error: { code, message } }` with the status S3 would use. S3 errors
 * from the operations the console runs keep their code; their message is put in plain words.
 */
import { toS3Error } from '../s3/respond.js';

export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notSignedIn = () => new ConsoleError(401, 'NotSignedIn', 'You are not signed in (or your session ended). Sign in again.');
export const csrfRefused = () => new ConsoleError(403, 'CsrfTokenMissing', 'This request did not carry the session\'s CSRF token (x-offload-csrf). Reload the page.');
export const badInput = (message: string) => new ConsoleError(400, 'InvalidArgument', message);
export const notAllowed = (message = 'This key is not allowed to do that.') => new ConsoleError(403, 'AccessDenied', message);
export const notFound = (message = 'There is no such console endpoint.') => new ConsoleError(404, 'NotFound', message);

/** Plain words for the S3 errors a console user meets; others keep S3's own message. */
const PLAIN: Record<string, string> = {
  AccessDenied: 'This key is not allowed to do that.',
  NoSuchBucket: 'There is no bucket by that name.',
  NoSuchKey: 'There is no object by that name.',
  NoSuchUpload: 'That upload does not exist any more (it was completed or cancelled).',
  BucketNotEmpty: 'The bucket is not empty. Delete its objects first, or empty it with the typed confirmation.',
  BucketAlreadyExists: 'A bucket by that name already exists.',
  BucketAlreadyOwnedByYou: 'You already have a bucket by that name.',
  InvalidPart: 'One of the parts is missing or changed: upload it again.',
  EntityTooSmall: 'Every part but the last must be at least 5 MiB.',
};

export function toConsoleError(err: unknown): ConsoleError {
  if (err instanceof ConsoleError) return err;
  const s3 = toS3Error(err);
  const generic = s3.message === '' || s3.message === 'Access Denied';
  const message = (generic || s3.code in PLAIN) && !s3.message.startsWith('This key') ? (PLAIN[s3.code] ?? s3.message) : s3.message;
  return new ConsoleError(s3.status, s3.code, message);
}
