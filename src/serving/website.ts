/**
 * The website endpoint: anonymous GET/HEAD answered as S3's website endpoint does (index
 * documents, error documents, redirects, HTML error pages). Objects are read through the one
 * S3 GetObject/HeadObject handler, so ETags, ranges and conditional requests behave the same.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import type { Reply, ServerConfig } from '../s3/context.js';
import { ANONYMOUS, makeRequestContext } from '../s3/request-context.js';
import type { RequestTarget } from '../util/request-target.js';
import { header, isSafeRedirectLocation } from '../s3/headers.js';
import { toS3Error, varyWith, writeReply } from '../s3/respond.js';
import { bucketFromHost } from '../s3/router.js';
import { getObject, headObject } from '../s3/ops/object-get.js';
import { applyCors, corsPreflight } from '../s3/ops/cors.js';
import { escapeXml } from '../s3/xml.js';
import { bucketWebsite, encodePath, redirectLocation, routingRuleFor, type WebsiteConfig } from '../media/website-config.js';
import type { Store } from '../storage/types.js';
import type { RequestTap, UsageTap } from '../s3/usage-tap.js';
import type { RequestLimiter } from '../s3/limits/limiter.js';

export interface WebsiteDeps {
  store: Store;
  config: ServerConfig;
  /** Base domain of website hosts: `bucket.<websiteDomain>`. */
  websiteDomain: string;
  nextRequestId: () => string;
  /** Usage stats and metrics (website requests count as WebsiteGetObject/WebsiteHeadObject). */
  usage?: UsageTap;
  /** The anonymous per-address and per-bucket rate limits and transfer budgets, as on the S3 endpoint. */
  limiter?: RequestLimiter;
  /** `--https-redirect`: plain-HTTP website requests are sent (301) to HTTPS on this port (read once listening). */
  httpsRedirectPort?: () => number;
}

/** The website endpoint: a request the front door (server/front-door.ts) classified as one, its target split. */
export function createWebsiteHandler(deps: WebsiteDeps): (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void {
  const isBucket = (name: string) => deps.store.getBucket(name) !== undefined;
  const toHttps = deps.httpsRedirectPort === undefined ? undefined : httpsRedirect(deps.httpsRedirectPort);
  return (req, res, target) => {
    if (toHttps && !isTls(req)) return toHttps(req, res, target);
    const requestId = deps.nextRequestId();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('Server', 'Offload');
    const tap = deps.usage?.begin(req, res);
    if (tap) {
      tap.website = true;
      tap.op = req.method === 'HEAD' ? 'WebsiteHeadObject' : 'WebsiteGetObject';
    }
    Promise.resolve(deps.store.refresh())
      .then(() => serve(deps, req, res, target, requestId, isBucket, tap))
      .catch((err: unknown) => errorPage(req, res, toS3Error(err), requestId));
  };
}

async function serve(deps: WebsiteDeps, req: IncomingMessage, res: ServerResponse, { rawPath, rawQuery, hasQuery }: RequestTarget, requestId: string, isBucket: (n: string) => boolean, tap?: RequestTap): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') throw new S3Error('MethodNotAllowed', `The specified method is not allowed against this resource.`, { Method: method }, { Allow: 'GET, HEAD, OPTIONS' });
  const bucket = bucketFromHost(header(req.headers, 'host'), deps.websiteDomain, isBucket);
  const known = bucket !== undefined && isBucket(bucket);
  // Visitors are anonymous: their address's limit, and the bucket's (503 SlowDown, Retry-After).
  if (deps.limiter?.active === true) deps.limiter.admit(req, res, ANONYMOUS.principal, known ? bucket : undefined);
  if (!known) throw noBucketForHost(header(req.headers, 'host') ?? '', bucket, deps.websiteDomain);
  // The bucket's CORS rules answer here as on the REST endpoint (web fonts on another origin).
  const common = { requestId, req, auth: ANONYMOUS, query: new URLSearchParams(), headers: req.headers, store: deps.store, config: deps.config };
  if (method === 'OPTIONS') return writeReply(req, res, await corsPreflight(makeRequestContext({ ...common, op: { op: 'CorsPreflight', bucket } })));
  applyCors(deps.store, bucket, method, req.headers, res);
  const site = bucketWebsite(deps.store, bucket);
  if (!site) throw new S3Error('NoSuchWebsiteConfiguration', undefined, { BucketName: bucket });
  let key: string;
  try {
    key = decodeURIComponent(rawPath).replace(/^\//, '');
  } catch {
    throw new S3Error('InvalidURI');
  }
  if (tap) {
    tap.bucket = bucket;
    tap.key = key;
  }
  if (site.redirectAllRequestsTo) {
    const { hostName, protocol } = site.redirectAllRequestsTo;
    // No Protocol: the request's own, as S3 does.
    return redirect(res, 301, `${protocol ?? protocolOf(req)}://${hostName}${rawPath}${hasQuery ? `?${rawQuery}` : ''}`);
  }
  const before = routingRuleFor(site, key);
  if (before) return redirect(res, Number(before.redirect.httpRedirectCode ?? 301), redirectLocation(before, key, header(req.headers, 'host'), protocolOf(req)));

  // The one S3 GetObject/HeadObject handler, with the context every S3 request gets (request-context.ts).
  const read = (objectKey: string): Promise<Reply> => {
    return method === 'HEAD'
      ? headObject(makeRequestContext({ ...common, op: { op: 'HeadObject', bucket, key: objectKey } }))
      : getObject(makeRequestContext({ ...common, op: { op: 'GetObject', bucket, key: objectKey } }));
  };

  const objectKey = key === '' || key.endsWith('/') ? key + (site.indexDocument ?? '') : key;
  try {
    const reply = await read(objectKey);
    const location = reply.headers?.['x-amz-website-redirect-location'];
    // Only a location S3 would have accepted: data stored before that check must not redirect to `javascript:`.
    if (typeof location === 'string' && isSafeRedirectLocation(location)) {
      reply.onDone?.();
      if (reply.body && typeof reply.body !== 'string' && !Buffer.isBuffer(reply.body)) reply.body.destroy();
      return redirect(res, 301, location);
    }
    if (reply.headers) delete reply.headers['x-amz-website-redirect-location'];
    writeReply(req, res, reply);
    return;
  } catch (err) {
    let s3err = toS3Error(err);
    if (s3err.status !== 403 && s3err.status !== 404) throw s3err;
    // A published website says which pages are missing: a key that does not exist is a 404 (its
    // error document, redirect rules) even when the policy grants GetObject without ListBucket,
    // the usual public-read policy, where the S3 API would answer 403 to hide existence.
    if (s3err.code === 'AccessDenied' && !(await deps.store.headObject(bucket, objectKey))) s3err = new S3Error('NoSuchKey', undefined, { Key: objectKey });
    // `dir` without its slash: S3 redirects to `dir/` when that index document exists.
    if (s3err.code === 'NoSuchKey' && site.indexDocument && key !== '' && !key.endsWith('/')) {
      const index = await deps.store.headObject(bucket, `${key}/${site.indexDocument}`);
      if (index) return redirect(res, 302, `/${encodePath(key)}/`);
    }
    const after = routingRuleFor(site, key, s3err.status);
    if (after) return redirect(res, Number(after.redirect.httpRedirectCode ?? 301), redirectLocation(after, key, header(req.headers, 'host'), protocolOf(req)));
    if (site.errorDocument) {
      try {
        const page = await read(site.errorDocument);
        // The error document is served with the error's status, never as a 200 or a 304.
        writeReply(req, res, { ...page, status: s3err.status });
        return;
      } catch {
        // No readable error document: fall through to the built-in page, as S3 does.
      }
    }
    throw s3err;
  }
}

/** Says which host was asked and how a bucket is addressed here, instead of an empty bucket name. */
function noBucketForHost(host: string, bucket: string | undefined, websiteDomain: string): S3Error {
  const port = /:\d+$/.exec(host)?.[0] ?? '';
  const how = `Address a bucket by its host name: http://BUCKET.${websiteDomain}${port}/, or a custom domain (a CNAME) named like the bucket, such as media.example.com.`;
  const message = bucket === undefined ? `No bucket answers for the host "${host}". ${how}` : `There is no bucket named "${bucket}" (asked for the host "${host}"). ${how}`;
  return new S3Error('NoSuchBucket', message, { BucketName: bucket ?? '', Host: host });
}

/** A request that came over TLS (HTTP/1.1 or, through its session's socket, HTTP/2). */
export function isTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
}

function protocolOf(req: IncomingMessage): 'http' | 'https' {
  return isTls(req) ? 'https' : 'http';
}

/** A host name (or [IPv6]) and optional port, nothing that could change a Location's meaning. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i;

/**
 * The same host and path on HTTPS (301, as a permanent move is meant); `tlsPort` is added to the
 * host unless it is 443. A Host header that is no host name is answered 400, not echoed.
 */
export function httpsRedirect(portOf: () => number): (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void {
  return (req, res, { rawPath, rawQuery, hasQuery }) => {
    const tlsPort = portOf();
    const host = header(req.headers, 'host') ?? '';
    if (!HOST.test(host)) {
      res.writeHead(400, { 'Content-Type': 'text/plain', 'Content-Length': 17, Server: 'Offload' });
      res.end(req.method === 'HEAD' ? undefined : 'Bad Host header.\n');
      return;
    }
    const name = host.replace(/:\d+$/, '');
    const location = `https://${name}${tlsPort === 443 ? '' : `:${tlsPort}`}${rawPath}${hasQuery ? `?${rawQuery}` : ''}`;
    res.writeHead(301, { Location: location, 'Content-Length': 0, Server: 'Offload' });
    res.end();
  };
}

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { Location: location, 'Content-Length': 0 });
  res.end();
}

/** S3's website endpoint answers errors with an HTML page, not XML. */
function errorPage(req: IncomingMessage, res: ServerResponse, err: S3Error, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err.status === 304) {
    res.writeHead(304, err.headers.Vary === undefined ? err.headers : { ...err.headers, Vary: varyWith(res, err.headers.Vary) });
    res.end();
    return;
  }
  const title = `${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}`;
  const details = Object.entries(err.details).map(([k, v]) => `<li>${escapeXml(k)}: ${escapeXml(v)}</li>`).join('');
  const body = `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<ul>\n<li>Code: ${escapeXml(err.code)}</li>\n<li>Message: ${escapeXml(err.message)}</li>\n${details}<li>RequestId: ${requestId}</li>\n</ul>\n<hr/>\n</body>\n</html>\n`;
  res.writeHead(err.status, { ...err.headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 412: 'Precondition Failed', 416: 'Requested Range Not Satisfiable', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' };

export type { WebsiteConfig };
