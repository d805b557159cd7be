/**
 * CORS as S3 evaluates it: the first rule whose AllowedOrigin and AllowedMethod match (and, for a
 * preflight, whose AllowedHeader patterns cover every requested header) decides the headers.
 */
import { S3Error } from '../errors/s3-error.js';
import { children, childText, el, parseXml, text, child, doc } from './xml.js';
import type { Store } from '../storage/types.js';

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const METHODS = ['GET', 'PUT', 'HEAD', 'POST', 'DELETE'];

export function parseCorsXml(body: string): CorsRule[] {
  const root = child(parseXml(body), 'CORSConfiguration');
  if (!root) throw new S3Error('MalformedXML');
  const rules = children(root, 'CORSRule').map((rule): CorsRule => {
    const list = (name: string) => children(rule, name).map((v) => (typeof v === 'string' ? v : '')).filter((v) => v !== '');
    const maxAge = childText(rule, 'MaxAgeSeconds');
    const parsed: CorsRule = {
      id: childText(rule, 'ID'),
      allowedOrigins: list('AllowedOrigin'),
      allowedMethods: list('AllowedMethod'),
      allowedHeaders: list('AllowedHeader'),
      exposeHeaders: list('ExposeHeader'),
      maxAgeSeconds: maxAge === undefined ? undefined : Number(maxAge),
    };
    if (parsed.allowedOrigins.length === 0 || parsed.allowedMethods.length === 0) throw new S3Error('MalformedXML');
    for (const method of parsed.allowedMethods) {
      if (!METHODS.includes(method)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
    }
    for (const origin of parsed.allowedOrigins) {
      if (origin.split('*').length > 2) throw new S3Error('InvalidRequest', `AllowedOrigin "${origin}" can not have more than one wildcard.`);
    }
    for (const h of parsed.allowedHeaders) {
      if (h.split('*').length > 2) throw new S3Error('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    if (parsed.maxAgeSeconds !== undefined && !Number.isInteger(parsed.maxAgeSeconds)) throw new S3Error('MalformedXML');
    return parsed;
  });
  if (rules.length === 0 || rules.length > 100) throw new S3Error('MalformedXML');
  return rules;
}

export function corsXml(rules: CorsRule[]): string {
  return doc(
    'CORSConfiguration',
    rules.map((r) =>
      el(
        'CORSRule',
        text('ID', r.id),
        r.allowedHeaders.map((h) => text('AllowedHeader', h)),
        r.allowedMethods.map((m) => text('AllowedMethod', m)),
        r.allowedOrigins.map((o) => text('AllowedOrigin', o)),
        r.exposeHeaders.map((h) => text('ExposeHeader', h)),
        text('MaxAgeSeconds', r.maxAgeSeconds),
      ),
    ),
  );
}

/** One `*` at most, matching any run of characters (origins case-sensitive, headers not). */
function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

export function matchRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[] = []): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.allowedOrigins.some((o) => wildcardMatch(o, origin, false)) &&
      r.allowedMethods.includes(method) &&
      requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcardMatch(a, h, true))),
  );
}

/** The response headers a matching rule grants. */
export function corsHeaders(rule: CorsRule, origin: string, opts: { preflight: boolean; requestHeaders?: string[] }): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const out: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
  };
  if (!anyOrigin) out['Access-Control-Allow-Credentials'] = 'true';
  if (rule.exposeHeaders.length > 0) out['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) out['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  if (opts.preflight && opts.requestHeaders && opts.requestHeaders.length > 0) out['Access-Control-Allow-Headers'] = opts.requestHeaders.join(', ');
  return out;
}

const cache = new Map<string, { text: string; rules: CorsRule[] }>();

/** The bucket's CORS rules (stored as JSON), parsed once per change. */
export function bucketCors(store: Store, bucket: string): CorsRule[] | undefined {
  const stored = store.getBucketConfig(bucket, 'cors');
  if (stored === undefined) {
    cache.delete(bucket);
    return undefined;
  }
  const hit = cache.get(bucket);
  if (hit && hit.text === stored) return hit.rules;
  const rules = JSON.parse(stored) as CorsRule[];
  cache.set(bucket, { text: stored, rules });
  return rules;
}
