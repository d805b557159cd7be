/** What one origin fetch for a key ended as, and the X-Cache labelling of answers. */
import { S3Error, isS3Error } from '../errors/s3-error.js';
import type { Reply } from '../s3/context.js';

export type Outcome =
  | { kind: 'stored' }
  | { kind: 'not-modified' }
  | { kind: 'not-found' }
  /** Answered, but not stored (no-store, private, too large, a cut body): each waiter asks on its own. */
  | { kind: 'unstored'; reason: string }
  | { kind: 'error'; error: S3Error };

export type CacheLabel = 'HIT' | 'MISS' | 'REVALIDATED' | 'STALE';

/** X-Cache and Age on an answer, or on the error it throws (a 304 or 416 from the store is one). */
export async function labelled(answer: Promise<Reply>, label: CacheLabel, age: number): Promise<Reply> {
  try {
    const reply = await answer;
    reply.headers = { ...reply.headers, 'X-Cache': label, Age: String(age) };
    return reply;
  } catch (err) {
    throw labelledError(err, label, age);
  }
}

export function labelledError(err: unknown, label: CacheLabel, age = 0): unknown {
  if (isS3Error(err)) Object.assign(err.headers, { 'X-Cache': label, Age: String(age) });
  return err;
}

export function noSuchKey(key: string, label: CacheLabel): S3Error {
  return new S3Error('NoSuchKey', undefined, { Key: key }, { 'X-Cache': label, Age: '0' });
}
