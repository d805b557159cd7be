/**
 * One origin fetch for a key and what becomes of its answer: a 200 streams to the first client
 * while it fills the bucket, a 304 refreshes the stored copy's freshness without a download, a
 * 404 is remembered for the negative TTL, and errors and timeouts are reported, never stored.
 */
import { S3Error } from '../errors/s3-error.js';
import type { Reply } from '../s3/context.js';
import type { Acl, ObjectMeta, Store } from '../storage/types.js';
import type { AddressGuard } from './address-guard.js';
import type { OriginConfig } from './config.js';
import { fetchOrigin, OriginFetchError, type OriginAnswer } from './fetcher.js';
import { startFill } from './fill.js';
import { answerTimes, markEntries, passThroughHeaders, storedHeaders, type FilledMark } from './filled-meta.js';
import { storable } from './freshness.js';
import type { NegativeCache, OriginCounters } from './memory.js';
import type { Outcome } from './outcome.js';

export interface PullEnv {
  store: Store;
  guard: AddressGuard;
  counters: OriginCounters;
  negative: NegativeCache;
  /** Called after a fill is committed (capacity eviction). */
  onStored: (bucket: string, key: string, config: OriginConfig) => void;
}

export interface PullTarget {
  config: OriginConfig;
  bucket: string;
  key: string;
  owner: string;
  /** The forwarded request headers (configured names only). */
  forwarded: Record<string, string>;
  /** The stale filled copy being revalidated, if any. */
  previous?: { meta: ObjectMeta; mark: FilledMark };
}

export interface Pulled {
  /** For the first client: the origin's body as it arrives (absent for background fetches and non-200s). */
  reply?: Reply;
  done: Promise<Outcome>;
}

export async function pull(env: PullEnv, target: PullTarget, withClient: boolean): Promise<Pulled> {
  const { config, bucket, key, previous } = target;
  const headers: Record<string, string> = { ...target.forwarded };
  if (previous?.mark.etag) headers['if-none-match'] = previous.mark.etag;
  if (previous?.mark.lastModified) headers['if-modified-since'] = previous.mark.lastModified;
  let answer: OriginAnswer;
  try {
    env.counters.add(bucket, 'origin_requests');
    answer = await fetchOrigin(env.guard, { config, key, method: 'GET', headers });
  } catch (err) {
    return { done: Promise.resolve({ kind: 'error', error: originError(err) }) };
  }
  const { status, body } = answer;
  if (status === 304 && previous) {
    body.resume();
    const times = answerTimes(answer.headers, answer.requestTime, answer.responseTime);
    const mark = markEntries(answer.headers, times, config.defaultTtl, previous.mark);
    const refreshed = env.store.updateObjectMeta(bucket, key, (current) => ({ userMeta: { ...current.userMeta, ...mark }, ...(times.cacheControl !== undefined ? { cacheControl: times.cacheControl } : {}) }));
    return { done: refreshed.then((): Outcome => ({ kind: 'not-modified' }), (): Outcome => ({ kind: 'unstored', reason: 'the stored copy changed while it was revalidated' })) };
  }
  if (status === 404 || status === 410) {
    body.resume();
    env.negative.add(`${bucket}/${key}`, config.negativeTtl);
    // The origin says it is gone: a stale copy must not be answered any more.
    if (previous) await env.store.deleteObject(bucket, key);
    return { done: Promise.resolve({ kind: 'not-found' }) };
  }
  if (status !== 200) {
    body.resume();
    return { done: Promise.resolve({ kind: 'error', error: new S3Error('XOffloadOriginError', `The origin answered ${status}.`, { OriginStatus: String(status) }) }) };
  }
  const cacheControl = answer.headers['cache-control'];
  if (!storable(cacheControl)) {
    return { reply: withClient ? streamed(env, bucket, answer) : (body.resume(), undefined), done: Promise.resolve({ kind: 'unstored', reason: 'the origin forbids storing it (no-store or private)' }) };
  }
  const times = answerTimes(answer.headers, answer.requestTime, answer.responseTime);
  const fill = startFill({
    store: env.store,
    bucket,
    key,
    owner: target.owner,
    acl: filledAcl(config),
    headers: storedHeaders(answer.headers, markEntries(answer.headers, times, config.defaultTtl)),
    origin: body,
    maxSize: Math.min(config.maxObjectSize, config.capacity ?? Infinity),
    withClient,
    etagIsMd5: config.s3 !== undefined,
    onBytes: (n) => env.counters.add(bucket, 'origin_bytes', n),
    precondition: (current) => {
      if (current && current.userMeta['offload-origin-fetched'] === undefined) throw new S3Error('PreconditionFailed', 'A user upload took the key while it was filled.');
    },
  });
  const done = fill.stored.then(({ meta, reason }): Outcome => {
    if (!meta) return { kind: 'unstored', reason: reason ?? 'not stored' };
    env.counters.add(bucket, 'fills');
    env.onStored(bucket, key, config);
    return { kind: 'stored' };
  });
  const reply = fill.client ? { status: 200, headers: { ...passThroughHeaders(answer.headers), 'X-Cache': 'MISS', Age: '0' }, body: fill.client } : undefined;
  return { reply, done };
}

/**
 * A request answered straight from the origin, nothing stored: a Range on a miss (RFC 9110
 * section 14: the origin's 206 as it is), an answer that may not be stored, a HEAD on a miss.
 */
export async function passThrough(env: PullEnv, target: PullTarget, method: 'GET' | 'HEAD', range?: string): Promise<Reply> {
  const headers = { ...target.forwarded, ...(range !== undefined ? { range } : {}) };
  let answer: OriginAnswer;
  try {
    env.counters.add(target.bucket, 'origin_requests');
    answer = await fetchOrigin(env.guard, { config: target.config, key: target.key, method, headers });
  } catch (err) {
    throw originError(err);
  }
  if (answer.status === 404 || answer.status === 410) {
    answer.body.resume();
    env.negative.add(`${target.bucket}/${target.key}`, target.config.negativeTtl);
    throw new S3Error('NoSuchKey', undefined, { Key: target.key }, { 'X-Cache': 'MISS', Age: '0' });
  }
  if (answer.status === 416) {
    answer.body.resume();
    throw new S3Error('InvalidRange', undefined, { RangeRequested: range ?? '' }, { 'X-Cache': 'MISS', Age: '0', ...(answer.headers['content-range'] ? { 'Content-Range': answer.headers['content-range'] } : {}) });
  }
  if (answer.status !== 200 && answer.status !== 206) {
    answer.body.resume();
    throw new S3Error('XOffloadOriginError', `The origin answered ${answer.status}.`, { OriginStatus: String(answer.status) }, { 'X-Cache': 'MISS' });
  }
  if (method === 'HEAD') {
    answer.body.resume();
    return { status: answer.status, headers: { ...passThroughHeaders(answer.headers), 'X-Cache': 'MISS', Age: '0' } };
  }
  return streamed(env, target.bucket, answer);
}

function streamed(env: PullEnv, bucket: string, answer: OriginAnswer): Reply {
  answer.body.on('data', (chunk: Buffer) => env.counters.add(bucket, 'origin_bytes', chunk.length));
  return { status: answer.status, headers: { ...passThroughHeaders(answer.headers), 'X-Cache': 'MISS', Age: '0' }, body: answer.body };
}

export function filledAcl(config: OriginConfig): Acl {
  return { canned: config.public ? 'public-read' : 'private' };
}

/**
 * 504 for a timeout, 502 for everything else that kept the origin from answering. The client
 * learns the kind, not the details (addresses, resolver errors): those name the origin's network.
 */
export function originError(err: unknown): S3Error {
  if (err instanceof OriginFetchError && err.kind === 'timeout') return new S3Error('XOffloadOriginTimeout', 'The origin did not answer in time.', {}, { 'X-Cache': 'MISS' });
  const why = err instanceof OriginFetchError ? CLIENT_MESSAGES[err.kind] : 'The origin could not be reached.';
  return new S3Error('XOffloadOriginError', why, {}, { 'X-Cache': 'MISS' });
}

const CLIENT_MESSAGES: Record<OriginFetchError['kind'], string> = {
  timeout: 'The origin did not answer in time.',
  unreachable: 'The origin could not be reached.',
  refused: "The origin's address is refused by this server's SSRF guard.",
  redirect: 'The origin redirected to another host, or too many times.',
};
