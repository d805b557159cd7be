/**
 * The request pipeline: parse (router) -> authenticate -> build one context -> dispatch ->
 * write. Every response carries a request id; every failure becomes an S3 error document.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerConfig } from './context.js';
import { dispatch } from './dispatch.js';
import { refuseDuplicateHeaders } from './duplicate-headers.js';
import { header } from './headers.js';
import { writeError, writeReply } from './respond.js';
import { bucketFromHost, route } from './router.js';
import { authenticate } from '../auth/index.js';
import type { CredentialLookup } from '../auth/types.js';
import { ANONYMOUS, makeRequestContext } from './request-context.js';
import type { RequestTarget } from '../util/request-target.js';
import { applyCors } from './ops/cors.js';
import { RepeatedAnswerCache, type RepeatedAnswerHit } from './repeated-answer-cache.js';
import { withHoistedHeaders } from './hoisted-headers.js';
import { bucketPolicy } from './access/policy-cache.js';
import { dependsOnRequest } from './access/bucket-policy.js';
import type { Store } from '../storage/types.js';
import type { UsageTap } from './usage-tap.js';
import type { RequestLimiter } from './limits/limiter.js';

export interface S3HandlerDeps {
  store: Store;
  config: ServerConfig;
  lookup: CredentialLookup;
  /** Usage stats and metrics: one tap per request, read when the response ends. */
  usage?: UsageTap;
  /** The hot cache's copy of a blob, if it has one: lets repeated public GETs skip the S3 work. */
  hotBlob?: (blobId: string) => Buffer | undefined;
  /** Rate limits and transfer budgets (limits/limiter.ts); skipped while none is configured. */
  limiter?: RequestLimiter;
}

const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let counter = 0;

/** Unique, cheap, sortable enough to find in logs. */
export function nextRequestId(): string {
  counter = (counter + 1) >>> 0;
  return ID_PREFIX + counter.toString(16).toUpperCase().padStart(8, '0');
}

/** Every answer names its request (the repeated-answer cache writes the same two, in its own head). */
export function setRequestIdHeaders(res: ServerResponse, requestId: string): void {
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  res.setHeader('Server', 'Offload');
}

/** The S3 API: a request the front door (server/front-door.ts) classified as one, its target split. */
export function createS3Handler(deps: S3HandlerDeps): (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void {
  const { store, config } = deps;
  const isBucket = (name: string) => store.getBucket(name) !== undefined;
  const repeatedAnswers = deps.hotBlob && new RepeatedAnswerCache(() => store.generation, deps.hotBlob);
  return (req, res, target) => {
    // A shared metadata store answers refresh() asynchronously; the embedded one does not, and
    // its hot path keeps no extra turn of the event loop.
    const refreshed = store.refresh();
    if (refreshed) {
      refreshed.then(
        () => serveRequest(req, res, target),
        (err: unknown) => {
          // Counted too (in the metrics, by status): the 503s of a metadata outage are worth seeing.
          deps.usage?.begin(req, res);
          writeError(req, res, err, target.rawPath, nextRequestId());
        },
      );
    }
    else serveRequest(req, res, target);
  };

  function serveRequest(req: IncomingMessage, res: ServerResponse, { rawPath, rawQuery }: RequestTarget): void {
    const generation = store.generation;
    const requestId = nextRequestId();
    const tap = deps.usage?.begin(req, res);
    const limited = deps.limiter?.active === true;
    const repeatKey = repeatedAnswers ? RepeatedAnswerCache.keyOf(req) : undefined;
    if (repeatKey !== undefined) {
      const hit = repeatedAnswers!.find(repeatKey);
      if (hit) {
        if (tap) Object.assign(tap, { op: 'GetObject', bucket: hit.bucket, key: hit.key });
        // A kept answer is counted against the limits like the full path's: the request is
        // anonymous (keyOf() takes no credentials) and its body is the kept blob.
        if (limited && !admitRepeat(req, res, rawPath, requestId, hit)) return;
        repeatedAnswers!.answer(hit, res, requestId);
        return;
      }
    }
    setRequestIdHeaders(res, requestId);
    let resource = rawPath;
    handle().catch((err: unknown) => writeError(req, res, err, resource, requestId));

    async function handle(): Promise<void> {
      refuseDuplicateHeaders(req);
      const query = new URLSearchParams(rawQuery);
      const hostBucket = bucketFromHost(header(req.headers, 'host'), config.domain, isBucket);
      if (hostBucket !== undefined) resource = `/${hostBucket}${rawPath}`;
      // Trusted only because a presigned URL's query is signed: authenticate() below verifies it.
      const headers = withHoistedHeaders(req.headers, query);
      const op = route({ method: req.method ?? 'GET', rawPath, query, hostBucket, copySource: header(headers, 'x-amz-copy-source') });
      if (tap) {
        tap.op = op.op;
        if ('bucket' in op) tap.bucket = op.bucket;
        if ('key' in op) tap.key = op.key;
      }
      if ('bucket' in op && op.op !== 'CorsPreflight') applyCors(store, op.bucket, req.method ?? 'GET', req.headers, res);
      const auth = op.op === 'CorsPreflight' ? ANONYMOUS : authenticate(
        { method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers, virtualHostBucket: hostBucket },
        { region: config.region, lookup: deps.lookup },
      );
      if (tap) tap.principal = auth.principal;
      if (limited) deps.limiter!.admit(req, res, auth.principal, 'bucket' in op ? op.bucket : undefined);
      const reply = await dispatch(makeRequestContext({ requestId, req, op, auth, query, headers, store, config, lookup: deps.lookup }));
      try {
        writeReply(req, res, reply);
      } catch (err) {
        // A header Node refuses (say, a control character in stored metadata): release the reader.
        reply.onDone?.();
        throw err;
      }
      if (repeatKey !== undefined && reply.blobId !== undefined && op.op === 'GetObject' && auth.principal.kind === 'anonymous' && reply.status === 200 && !policyDependsOnRequest(store, op.bucket)) {
        repeatedAnswers!.remember(repeatKey, res, reply.headers ?? {}, { generation, bucket: op.bucket, key: op.key, blobId: reply.blobId });
      }
    }
  }

  /** Admits a repeated answer through the limiter; false when it was refused (and the refusal sent). */
  function admitRepeat(req: IncomingMessage, res: ServerResponse, rawPath: string, requestId: string, hit: RepeatedAnswerHit): boolean {
    try {
      deps.limiter!.admit(req, res, ANONYMOUS.principal, hit.bucket, hit.body.length);
      return true;
    } catch (err) {
      setRequestIdHeaders(res, requestId);
      const resource = rawPath.startsWith(`/${hit.bucket}/`) ? rawPath : `/${hit.bucket}${rawPath}`;
      writeError(req, res, err, resource, requestId);
      return false;
    }
  }
}

/**
 * A policy with conditions on the source IP, Referer, User-Agent or TLS can answer the same URL
 * differently per client (hotlink protection, say): such a bucket's answers are never repeated.
 */
function policyDependsOnRequest(store: Store, bucket: string): boolean {
  const policy = bucketPolicy(store, bucket);
  return policy !== undefined && dependsOnRequest(policy);
}
