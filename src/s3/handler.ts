/**
 * The request pipeline: parse (router) -> authenticate -> build one context -> dispatch ->
 * write. Every response carries a request id; every failure becomes an S3 error document.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import type { RequestContext, ServerConfig } from './context.js';
import { dispatch } from './dispatch.js';
import { refuseDuplicateHeaders } from './duplicate-headers.js';
import { header } from './headers.js';
import { writeError, writeReply } from './respond.js';
import { bucketFromHost, route } from './router.js';
import { authenticate, checksumRequestFromHeaders, decodeBody, verifyContentMd5 } from '../auth/index.js';
import type { AuthResult, CredentialLookup } from '../auth/types.js';
import { applyCors } from './ops/cors.js';
import { PublicGetCache } from './public-get-cache.js';
import { withHoistedHeaders } from './hoisted-headers.js';
import { bucketPolicy } from './policy-cache.js';
import { dependsOnRequest } from './policy.js';
import type { Store } from '../storage/types.js';
import type { UsageTap } from './usage-tap.js';

export interface S3HandlerDeps {
  store: Store;
  config: ServerConfig;
  lookup: CredentialLookup;
  /** Requests under `/_offload/` (the server's own namespace). */
  admin: (req: IncomingMessage, res: ServerResponse, path: string) => void;
  /** Usage stats and metrics: one tap per request, read when the response ends. */
  usage?: UsageTap;
  /** The hot cache's copy of a blob, if it has one: lets repeated public GETs skip the S3 work. */
  hotBlob?: (blobId: string) => Buffer | undefined;
}

const ANONYMOUS: AuthResult = { principal: { kind: 'anonymous' }, payload: { kind: 'unsigned' } };

const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let counter = 0;

/** Unique, cheap, sortable enough to find in logs. */
export function nextRequestId(): string {
  counter = (counter + 1) >>> 0;
  return ID_PREFIX + counter.toString(16).toUpperCase().padStart(8, '0');
}

export function createS3Handler(deps: S3HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, config } = deps;
  const isBucket = (name: string) => store.getBucket(name) !== undefined;
  const publicGets = deps.hotBlob && new PublicGetCache(() => store.generation, deps.hotBlob);
  return (req, res) => {
    store.refresh();
    const generation = store.generation;
    const requestId = nextRequestId();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? '' : target.slice(q + 1);
    const admin = rawPath.startsWith('/_offload/');
    const tap = admin ? undefined : deps.usage?.begin(req, res);
    const repeatKey = admin || !publicGets ? undefined : PublicGetCache.keyOf(req);
    if (repeatKey !== undefined) {
      const hit = publicGets!.serve(repeatKey, res, requestId);
      if (hit) {
        if (tap) Object.assign(tap, { op: 'GetObject', bucket: hit.bucket, key: hit.key });
        return;
      }
    }
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('Server', 'Offload');
    if (admin) {
      deps.admin(req, res, rawPath);
      return;
    }
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
      const ctx: RequestContext = {
        requestId,
        req,
        op,
        principal: auth.principal,
        payload: auth.payload,
        auth,
        query,
        headers,
        store,
        config,
        readBody: (limit = 1024 * 1024) => readWholeBody(ctx, limit),
        lookup: deps.lookup,
      };
      const reply = await dispatch(ctx);
      try {
        writeReply(req, res, reply);
      } catch (err) {
        // A header Node refuses (say, a control character in stored metadata): release the reader.
        reply.onDone?.();
        throw err;
      }
      if (repeatKey !== undefined && reply.blobId !== undefined && op.op === 'GetObject' && auth.principal.kind === 'anonymous' && reply.status === 200 && !policyDependsOnRequest(store, op.bucket)) {
        publicGets!.remember(repeatKey, res, reply.headers ?? {}, { generation, bucket: op.bucket, key: op.key, blobId: reply.blobId });
      }
    }
  };
}

/**
 * A policy with conditions on the source IP, Referer, User-Agent or TLS can answer the same URL
 * differently per client (hotlink protection, say): such a bucket's answers are never repeated.
 */
function policyDependsOnRequest(store: Store, bucket: string): boolean {
  const policy = bucketPolicy(store, bucket);
  return policy !== undefined && dependsOnRequest(policy);
}

/** How much of an oversized XML body is read (and dropped) before the error is answered. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/** Small bodies (XML documents) read whole, through the same verification as object bodies. */
async function readWholeBody(ctx: RequestContext, limit: number): Promise<Buffer> {
  // On CompleteMultipartUpload the checksum headers describe the whole object, not this XML.
  const checksum = ctx.op.op === 'CompleteMultipartUpload' ? undefined : checksumRequestFromHeaders(ctx.headers);
  const decoded = decodeBody(ctx.req, ctx.payload, { headers: ctx.headers, checksum });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of decoded.stream) {
      size += (chunk as Buffer).length;
      // Past the limit, a modest rest is read and dropped: answering mid-upload would reset the
      // connection under the client before it reads the error.
      if (size > limit + DRAIN_LIMIT) break;
      if (size <= limit) chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (size <= limit) throw err;
  }
  if (size > limit) {
    decoded.stream.destroy();
    throw new S3Error('MaxMessageLengthExceeded');
  }
  const body = Buffer.concat(chunks);
  const contentMd5 = header(ctx.headers, 'content-md5');
  if (contentMd5 !== undefined) {
    verifyContentMd5(contentMd5, createHash('md5').update(body).digest());
  }
  return body;
}
