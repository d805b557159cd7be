/** The error a test expects, in one shape whichever client or transport produced it. */
import type { S3ServiceException } from '@aws-sdk/client-s3';
import type { RawResponse } from './raw.js';

/**
 * Awaits a call that must fail and returns the SDK's error; a call that succeeds fails the test.
 * `$metadata.httpStatusCode` stays on the error, as tests read it.
 */
export async function errorOf(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the call to fail');
}

/** Name and status of an SDK error, for one-line assertions. */
export function sdkErrorOf(err: unknown): { name: string; status: number | undefined } {
  return { name: (err as S3ServiceException).name, status: (err as S3ServiceException).$metadata?.httpStatusCode };
}

/** Status, Code and Message of a raw response's S3 XML error document. */
export function xmlErrorOf(res: RawResponse): { status: number; code?: string; message?: string } {
  const pick = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(res.body)?.[1];
  return { status: res.status, code: pick('Code'), message: pick('Message') };
}
