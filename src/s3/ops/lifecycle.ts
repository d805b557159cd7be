/**
 * Put/Get/DeleteBucketLifecycleConfiguration, validated as S3 validates it, and the
 * `x-amz-expiration` header on PUT and HEAD. The rules are stored as JSON (storage/lifecycle-rules.ts)
 * and applied by the store's background sweep (storage/lifecycle.ts). Transitions move objects
 * between storage classes, and there is one class here: they are refused, not ignored.
 */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler, type RequestContext } from '../context.js';
import { httpDate, validateTags } from '../headers.js';
import { child, children, childText, doc, el, parseXml, text, type XmlValue } from '../xml.js';
import { bucketFor, storeCall } from './_common.js';
import { expiryOf, parseStoredRules, ruleMatches, type LifecycleFilter, type LifecycleRule } from '../../storage/lifecycle-rules.js';
import type { ObjectMeta } from '../../storage/types.js';

const MAX_RULES = 1000;
const invalid = (message: string, name?: string, value?: string) => new S3Error('InvalidArgument', message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: (value ?? '').slice(0, 64) });

function positiveInt(raw: string | undefined, what: string, allowZero = false): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw.trim()) || (!allowZero && Number(raw) === 0)) throw invalid(`'${what}' must be a positive integer`, what, raw);
  return Number(raw);
}

/** S3 takes only a date at midnight UTC (ISO 8601), e.g. 2027-01-01 or 2027-01-01T00:00:00Z. */
function midnightDate(raw: string, what: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(T00:00:00(\.000)?(Z|[+-]00:00))?$/.exec(raw.trim());
  const ms = m ? Date.parse(`${m[1]}T00:00:00Z`) : NaN;
  if (!m || Number.isNaN(ms)) throw invalid(`'${what}' must be at midnight GMT, in ISO 8601 format`, what, raw);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function parseTag(node: XmlValue): [string, string] {
  const key = childText(node, 'Key');
  if (key === undefined) throw new S3Error('MalformedXML');
  return [key, childText(node, 'Value') ?? ''];
}

function parseFilter(node: XmlValue): { filter: LifecycleFilter; and: boolean } {
  const and = child(node, 'And');
  const source = and ?? node;
  const filter: LifecycleFilter = {};
  const prefix = childText(source, 'Prefix');
  if (prefix !== undefined) filter.prefix = prefix;
  const tags = children(source, 'Tag').map(parseTag);
  if (!and && tags.length > 1) throw new S3Error('MalformedXML', 'More than one Tag needs an And');
  if (tags.length > 0) {
    filter.tags = Object.fromEntries(tags);
    validateTags(filter.tags);
  }
  const gt = childText(source, 'ObjectSizeGreaterThan');
  const lt = childText(source, 'ObjectSizeLessThan');
  if (gt !== undefined) filter.sizeGreaterThan = positiveInt(gt, 'ObjectSizeGreaterThan', true);
  if (lt !== undefined) filter.sizeLessThan = positiveInt(lt, 'ObjectSizeLessThan');
  return { filter, and: and !== undefined };
}

function parseRule(node: XmlValue, index: number): LifecycleRule {
  const id = childText(node, 'ID') ?? `rule-${index + 1}`;
  if (id.length > 255) throw invalid('ID length should not exceed allowed limit of 255', 'ID', id);
  const status = childText(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML', 'Status must be Enabled or Disabled');
  const rule: LifecycleRule = { id, status };
  const legacyPrefix = childText(node, 'Prefix');
  const filterNode = child(node, 'Filter');
  if (legacyPrefix !== undefined && filterNode !== undefined) throw new S3Error('MalformedXML', 'A rule has a Prefix or a Filter, not both');
  if (legacyPrefix !== undefined) rule.legacyPrefix = legacyPrefix;
  if (filterNode !== undefined) Object.assign(rule, parseFilter(filterNode));
  const exp = child(node, 'Expiration');
  if (exp) {
    const days = positiveInt(childText(exp, 'Days'), 'Days');
    const dateRaw = childText(exp, 'Date');
    const marker = childText(exp, 'ExpiredObjectDeleteMarker');
    if ([days, dateRaw, marker].filter((v) => v !== undefined).length !== 1) throw new S3Error('MalformedXML', 'Expiration takes exactly one of Days, Date, ExpiredObjectDeleteMarker');
    if (marker !== undefined && marker !== 'true' && marker !== 'false') throw new S3Error('MalformedXML', 'ExpiredObjectDeleteMarker must be true or false');
    if (marker !== undefined && rule.filter?.tags) throw invalid('ExpiredObjectDeleteMarker cannot be specified with object tags', 'ExpiredObjectDeleteMarker', marker);
    rule.expiration = days !== undefined ? { days } : dateRaw !== undefined ? { date: midnightDate(dateRaw, 'Date') } : { expiredObjectDeleteMarker: marker === 'true' };
  }
  const nc = child(node, 'NoncurrentVersionExpiration');
  if (nc) {
    const noncurrentDays = positiveInt(childText(nc, 'NoncurrentDays'), 'NoncurrentDays');
    if (noncurrentDays === undefined) throw new S3Error('MalformedXML', 'NoncurrentVersionExpiration needs NoncurrentDays');
    const newer = positiveInt(childText(nc, 'NewerNoncurrentVersions'), 'NewerNoncurrentVersions');
    if (newer !== undefined && newer > 100) throw invalid("'NewerNoncurrentVersions' cannot be more than 100", 'NewerNoncurrentVersions', String(newer));
    rule.noncurrentExpiration = newer === undefined ? { noncurrentDays } : { noncurrentDays, newerNoncurrentVersions: newer };
  }
  const abort = child(node, 'AbortIncompleteMultipartUpload');
  if (abort) {
    const days = positiveInt(childText(abort, 'DaysAfterInitiation'), 'DaysAfterInitiation');
    if (days === undefined) throw new S3Error('MalformedXML', 'AbortIncompleteMultipartUpload needs DaysAfterInitiation');
    if (rule.filter?.tags) throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
    rule.abortIncompleteMultipartUploadDays = days;
  }
  for (const name of ['Transition', 'NoncurrentVersionTransition']) {
    for (const t of children(node, name)) {
      const date = childText(t, 'Date');
      if (date !== undefined) midnightDate(date, 'Date');
      throw new S3Error('NotImplemented', 'Lifecycle transitions are not supported: this server has one storage class.', { Element: name });
    }
  }
  if (!rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteMultipartUploadDays === undefined) throw new S3Error('MalformedXML', 'At least one action needs to be specified in a rule');
  return rule;
}

export function parseLifecycleXml(body: string): LifecycleRule[] {
  const root = child(parseXml(body), 'LifecycleConfiguration');
  if (!root) throw new S3Error('MalformedXML');
  const nodes = children(root, 'Rule');
  if (nodes.length === 0 || nodes.length > MAX_RULES) throw new S3Error('MalformedXML', `A lifecycle configuration has 1 to ${MAX_RULES} rules`);
  const rules = nodes.map(parseRule);
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) throw invalid('Rule ID must be unique. Found same ID for more than one rule', 'ID', rule.id);
    ids.add(rule.id);
  }
  return rules;
}

function filterXml(rule: LifecycleRule): string {
  if (rule.legacyPrefix !== undefined) return text('Prefix', rule.legacyPrefix);
  const f = rule.filter;
  if (!f) return '';
  const parts = [
    f.prefix === undefined ? '' : text('Prefix', f.prefix),
    Object.entries(f.tags ?? {}).map(([k, v]) => el('Tag', text('Key', k), text('Value', v))),
    f.sizeGreaterThan === undefined ? '' : text('ObjectSizeGreaterThan', f.sizeGreaterThan),
    f.sizeLessThan === undefined ? '' : text('ObjectSizeLessThan', f.sizeLessThan),
  ];
  return el('Filter', rule.and ? el('And', parts) : parts);
}

export function lifecycleXml(rules: LifecycleRule[]): string {
  return doc(
    'LifecycleConfiguration',
    rules.map((r) =>
      el(
        'Rule',
        text('ID', r.id),
        filterXml(r),
        text('Status', r.status),
        r.expiration ? el('Expiration', text('Days', r.expiration.days), text('Date', r.expiration.date), r.expiration.expiredObjectDeleteMarker === undefined ? '' : text('ExpiredObjectDeleteMarker', r.expiration.expiredObjectDeleteMarker)) : '',
        r.noncurrentExpiration ? el('NoncurrentVersionExpiration', text('NoncurrentDays', r.noncurrentExpiration.noncurrentDays), text('NewerNoncurrentVersions', r.noncurrentExpiration.newerNoncurrentVersions)) : '',
        r.abortIncompleteMultipartUploadDays === undefined ? '' : el('AbortIncompleteMultipartUpload', text('DaysAfterInitiation', r.abortIncompleteMultipartUploadDays)),
      ),
    ),
  );
}

export const putBucketLifecycle: Handler<'PutBucketLifecycleConfiguration'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const rules = parseLifecycleXml((await ctx.readBody(512 * 1024)).toString('utf8'));
  if (!ctx.store.supportsVersioning) throw new S3Error('NotImplemented', "Lifecycle rules are not supported by this server's metadata store", { Operation: 'PutBucketLifecycleConfiguration' });
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'lifecycle', JSON.stringify({ rules })));
  return emptyReply(200);
};

export const getBucketLifecycle: Handler<'GetBucketLifecycleConfiguration'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const rules = parseStoredRules(ctx.store.getBucketConfig(ctx.op.bucket, 'lifecycle'));
  if (rules.length === 0) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(lifecycleXml(rules));
};

export const deleteBucketLifecycle: Handler<'DeleteBucketLifecycle'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'lifecycle', undefined));
  return emptyReply(204);
};

/** `x-amz-expiration` for a current object an enabled Expiration rule applies to: when, and which rule. */
export function expirationHeaders(ctx: RequestContext, meta: ObjectMeta): Record<string, string> {
  const stored = ctx.store.getBucketConfig(meta.bucket, 'lifecycle');
  if (stored === undefined) return {};
  let best: { at: number; id: string } | undefined;
  for (const rule of parseStoredRules(stored)) {
    if (rule.status !== 'Enabled' || !rule.expiration || !ruleMatches(rule, meta)) continue;
    const at = rule.expiration.days !== undefined ? expiryOf(meta.lastModified, rule.expiration.days) : rule.expiration.date !== undefined ? Date.parse(rule.expiration.date) : undefined;
    if (at !== undefined && (!best || at < best.at)) best = { at, id: rule.id };
  }
  // A rule id is the client's text: only what a header may carry goes out.
  return best ? { 'x-amz-expiration': `expiry-date="${httpDate(best.at)}", rule-id="${best.id.replace(/[^\x20-\x7e]|"/g, '_')}"` } : {};
}
