/** Small pieces every signature scheme needs: one header's value, and the credential an access key names. */
import { S3Error } from '../errors/s3-error.js';
import type { AuthOptions, Credential } from './types.js';

/** The first value of a header Node may have given as a list. */
export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The credential of an access key id, or InvalidAccessKeyId. */
export function requireCredential(opts: AuthOptions, accessKeyId: string): Credential {
  const credential = opts.lookup(accessKeyId);
  if (!credential) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  return credential;
}
