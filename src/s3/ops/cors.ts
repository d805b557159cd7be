/** CORS: Put/Get/DeleteBucketCors, the OPTIONS preflight, and the headers on actual requests. */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { header } from '../headers.js';
import { bucketCors, corsHeaders, corsXml, matchRule, parseCorsXml } from '../cors-rules.js';
import { bucketFor, requireBucket, storeCall } from './_common.js';
import type { Store } from '../../storage/types.js';

export const putBucketCors: Handler<'PutBucketCors'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const rules = parseCorsXml((await ctx.readBody(64 * 1024)).toString('utf8'));
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'cors', JSON.stringify(rules)));
  return emptyReply(200);
};

export const getBucketCors: Handler<'GetBucketCors'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const rules = bucketCors(ctx.store, ctx.op.bucket);
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(corsXml(rules));
};

export const deleteBucketCors: Handler<'DeleteBucketCors'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'cors', undefined));
  return emptyReply(204);
};

function requestedHeaders(headers: IncomingHttpHeaders): string[] {
  const raw = header(headers, 'access-control-request-headers');
  return raw === undefined ? [] : raw.split(',').map((h) => h.trim()).filter((h) => h !== '');
}

/** Preflights are unauthenticated by design: browsers send them without credentials. */
export const corsPreflight: Handler<'CorsPreflight'> = async (ctx) => {
  const origin = header(ctx.headers, 'origin');
  const method = header(ctx.headers, 'access-control-request-method');
  if (origin === undefined) throw new S3Error('InvalidRequest', 'Insufficient information. Origin request header needed.');
  if (method === undefined) throw new S3Error('InvalidRequest', 'Invalid Access-Control-Request-Method: null');
  requireBucket(ctx);
  const rules = bucketCors(ctx.store, ctx.op.bucket);
  if (!rules) throw new S3Error('AccessDenied', 'CORSResponse: CORS is not enabled for this bucket.');
  const wanted = requestedHeaders(ctx.headers);
  const rule = matchRule(rules, origin, method, wanted);
  if (!rule) throw new S3Error('AccessDenied', 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.');
  return emptyReply(200, { ...corsHeaders(rule, origin, { preflight: true, requestHeaders: wanted }), Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method', 'Content-Length': 0 });
};

/**
 * Adds CORS headers for an actual (non-preflight) request with an Origin, before the handler
 * runs, so that they are on success and error responses alike, as S3 does.
 */
export function applyCors(store: Store, bucket: string, method: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
  const origin = header(headers, 'origin');
  if (origin === undefined) return;
  const rules = bucketCors(store, bucket);
  if (!rules) return;
  res.setHeader('Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  const rule = matchRule(rules, origin, method);
  if (!rule) return;
  for (const [name, value] of Object.entries(corsHeaders(rule, origin, { preflight: false }))) res.setHeader(name, value);
}
