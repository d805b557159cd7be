/**
 * `/buckets/:b/settings`: website hosting, cache rules, CORS origins and the custom domain's DNS
 * record, as forms instead of XML. Website and CORS run as their S3 operations; cache rules (an
 * Offload setting with no S3 operation) need what S3 asks for bucket configuration: the owner.
 */
import { badInput, notAllowed } from './errors.js';
import type { ApiAnswer, Route, SignedInCall } from './deps.js';
import { boolField, readJson, stringField } from './http.js';
import { runS3Text } from './s3-call.js';
import { parseWebsiteXml, websiteXml } from '../s3/website-xml.js';
import { corsXml, parseCorsXml } from '../s3/cors-rules.js';
import { CacheRulesError, parseCacheRules, type CacheRule } from '../media/cache-rules.js';
import { authorize } from '../s3/access/authorize.js';
import { isS3Error } from '../errors/s3-error.js';
import { S3Error } from '../errors/s3-error.js';

/** The headers a page's scripts may read from a cross-origin answer (as `offload cors` sets them). */
const EXPOSE_HEADERS = ['ETag', 'Content-Length', 'Content-Type', 'Content-Range', 'Accept-Ranges', 'Last-Modified', 'Cache-Control'];

async function optional<T>(run: () => Promise<T>, missing: string, fallback: T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isS3Error(err) && err.code === missing) return fallback;
    throw err;
  }
}

/** Root, the bucket's owner, or a key scoped to it with full access. */
function requireBucketOwner(call: SignedInCall, name: string): void {
  const bucket = call.deps.store.getBucket(name);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
  const principal = { kind: 'user' as const, credential: call.session.credential, signatureVersion: 4 as const, presigned: false };
  try {
    authorize({ principal, rootOwner: call.deps.config.rootOwner.id, bucket, permission: 'WRITE', ownerOnly: true });
  } catch (err) {
    throw isS3Error(err) && err.message.startsWith('This key') ? notAllowed(err.message) : notAllowed('Only the bucket\'s owner may change its settings.');
  }
}

/** A rule in the form's shape: `match` is a Content-Type glob (`font/*`), or `key:` and a key glob (`key:*.html`). */
function ruleToForm(rule: CacheRule) {
  const match = rule.contentType ? rule.contentType.join(', ') : `key:${(rule.key ?? []).join(', ')}`;
  return { match, contentType: rule.contentType, key: rule.key, cacheControl: rule.cacheControl };
}

function formToRule(raw: unknown, i: number): CacheRule {
  const r = (raw ?? {}) as { match?: unknown; contentType?: unknown; key?: unknown; cacheControl?: unknown };
  const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : Array.isArray(v) ? (v as string[]) : undefined);
  const rule: Record<string, unknown> = { cacheControl: r.cacheControl };
  if (typeof r.match === 'string') {
    if (r.match.startsWith('key:')) rule.key = list(r.match.slice(4));
    else rule.contentType = list(r.match);
  } else {
    rule.contentType = list(r.contentType);
    rule.key = list(r.key);
  }
  try {
    return parseCacheRules(JSON.stringify({ rules: [rule] }))[0]!;
  } catch (err) {
    if (err instanceof CacheRulesError) throw badInput(`Cache rule ${i + 1}: ${err.message.replace(/^rule 1: /, '')}`);
    throw err;
  }
}

async function getSettings(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const site = await optional(async () => parseWebsiteXml((await runS3Text(call, { method: 'GET', bucket, query: { website: '' } })).text), 'NoSuchWebsiteConfiguration', undefined);
  const cors = await optional(async () => parseCorsXml((await runS3Text(call, { method: 'GET', bucket, query: { cors: '' } })).text), 'NoSuchCORSConfiguration', []);
  requireBucketOwner(call, bucket);
  const stored = call.deps.store.getBucketConfig(bucket, 'cache-rules');
  const host = new URL(call.deps.endpoint()).hostname;
  return {
    body: {
      website: { enabled: site !== undefined, indexDocument: site?.indexDocument ?? 'index.html', errorDocument: site?.errorDocument ?? '' },
      cacheRules: (stored === undefined ? [] : parseCacheRules(stored)).map(ruleToForm),
      cors: { origins: [...new Set(cors.flatMap((r) => r.allowedOrigins))], methods: [...new Set(cors.flatMap((r) => r.allowedMethods))] },
      domain: {
        cname: bucket.includes('.') ? bucket : undefined,
        record: `${bucket}. CNAME ${host}.`,
        note: bucket.includes('.') ? `Point ${bucket} at this server with the DNS record above; requests for that host are answered from this bucket.` : 'A custom domain needs a bucket named after it (for example media.example.com).',
      },
    },
  };
}

async function putWebsite(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const body = await readJson(call.req);
  if (boolField(body, 'enabled') === false) {
    await runS3Text(call, { method: 'DELETE', bucket, query: { website: '' } });
  } else {
    const indexDocument = stringField(body, 'indexDocument', { optional: true, max: 1024 }) || 'index.html';
    const errorDocument = stringField(body, 'errorDocument', { optional: true, max: 1024 }) || undefined;
    await runS3Text(call, { method: 'PUT', bucket, query: { website: '' }, body: websiteXml({ indexDocument, errorDocument, routingRules: [] }) });
  }
  return getSettings(call);
}

async function putCacheRules(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  requireBucketOwner(call, bucket);
  const body = await readJson(call.req);
  const raw = body.cacheRules;
  if (!Array.isArray(raw) || raw.length > 100) throw badInput('"cacheRules" is a list of at most 100 { match, cacheControl } rules.');
  const rules = raw.map(formToRule);
  await call.deps.store.setBucketConfig(bucket, 'cache-rules', rules.length === 0 ? undefined : JSON.stringify({ rules }));
  return getSettings(call);
}

async function putCors(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const body = await readJson(call.req);
  const origins = body.origins;
  const methods = body.methods ?? ['GET', 'HEAD'];
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 100 && v.every((s) => typeof s === 'string' && s !== '' && s.length < 1024);
  if (!strings(origins)) throw badInput('"origins" is a list of origins such as https://www.example.com (or * for any).');
  if (!strings(methods)) throw badInput('"methods" is a list such as ["GET", "HEAD"].');
  if (origins.length === 0) {
    await runS3Text(call, { method: 'DELETE', bucket, query: { cors: '' } });
  } else {
    const xml = corsXml([{ allowedOrigins: origins, allowedMethods: methods, allowedHeaders: ['*'], exposeHeaders: EXPOSE_HEADERS, maxAgeSeconds: 3000 }]);
    await runS3Text(call, { method: 'PUT', bucket, query: { cors: '' }, body: xml });
  }
  return getSettings(call);
}

export const settingsRoutes: Route[] = [
  { method: 'GET', path: '/buckets/:bucket/settings', handler: getSettings },
  { method: 'PUT', path: '/buckets/:bucket/settings/website', handler: putWebsite },
  { method: 'PUT', path: '/buckets/:bucket/settings/cache-rules', handler: putCacheRules },
  { method: 'PUT', path: '/buckets/:bucket/settings/cors', handler: putCors },
];
