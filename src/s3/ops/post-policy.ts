/**
 * PostObject's form authentication: the signature over the base64 `policy` field (SigV4 or
 * SigV2), and the policy document's expiration and conditions checked against the form fields.
 * Field names are case-insensitive: callers pass them lowercased.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../../errors/s3-error.js';
import { hmac, signingKey } from '../../auth/signing-key.js';
import type { CredentialLookup, Principal } from '../../auth/types.js';

/** Form fields by lowercased name (first occurrence wins). */
export type FormFields = Map<string, string>;

export interface PostCondition {
  kind: 'eq' | 'starts-with';
  /** Lowercased field name, without the `$`. */
  field: string;
  value: string;
  /** The condition as written, for error messages. */
  text: string;
}

export interface PostPolicy {
  expiration: number;
  conditions: PostCondition[];
  lengthRange?: { min: number; max: number };
}

/** Fields that never need a policy condition. */
export function isExemptField(name: string): boolean {
  return ['policy', 'signature', 'awsaccesskeyid', 'x-amz-signature', 'file'].includes(name)
    || name.startsWith('x-ignore-')
    || name.startsWith('x-amz-checksum-');
}

const missingField = (name: string) =>
  new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, { ArgumentName: name, ArgumentValue: '' });

/**
 * Verifies the form's signature. Returns the signer and the policy it signed; a form with no
 * signature fields keeps `fallback` (the request's own principal, normally anonymous) and no policy.
 */
export function verifyFormSignature(fields: FormFields, lookup: CredentialLookup | undefined, fallback: Principal): { principal: Principal; policy?: string } {
  const policy = fields.get('policy');
  const v4 = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature'].some((f) => fields.has(f));
  const v2 = fields.has('awsaccesskeyid') || fields.has('signature');
  if (!v4 && !v2) {
    if (policy !== undefined) throw missingField('AWSAccessKeyId');
    return { principal: fallback };
  }
  if (v4) {
    const algorithm = fields.get('x-amz-algorithm');
    if (algorithm === undefined) throw missingField('x-amz-algorithm');
    if (algorithm !== 'AWS4-HMAC-SHA256') throw new S3Error('InvalidArgument', 'Only the AWS4-HMAC-SHA256 algorithm is supported.', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm });
    const credentialField = fields.get('x-amz-credential');
    if (credentialField === undefined) throw missingField('x-amz-credential');
    const signature = fields.get('x-amz-signature');
    if (signature === undefined) throw missingField('x-amz-signature');
    if (policy === undefined) throw missingField('policy');
    const parts = credentialField.split('/');
    if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) {
      throw new S3Error('InvalidArgument', 'Invalid credential scope in x-amz-credential.', { ArgumentName: 'x-amz-credential', ArgumentValue: credentialField });
    }
    const [accessKeyId, date, region, service] = parts as [string, string, string, string];
    const credential = findCredential(lookup, accessKeyId);
    const expected = hmac(signingKey(credential.secretAccessKey, date, region, service), policy).toString('hex');
    if (!sameText(expected, signature.toLowerCase())) throw new S3Error('SignatureDoesNotMatch', undefined, { StringToSign: policy, SignatureProvided: signature, AWSAccessKeyId: accessKeyId });
    return { principal: { kind: 'user', credential, signatureVersion: 4, presigned: true }, policy };
  }
  const accessKeyId = fields.get('awsaccesskeyid');
  if (accessKeyId === undefined) throw missingField('AWSAccessKeyId');
  const signature = fields.get('signature');
  if (signature === undefined) throw missingField('signature');
  if (policy === undefined) throw missingField('policy');
  const credential = findCredential(lookup, accessKeyId);
  const expected = createHmac('sha1', credential.secretAccessKey).update(policy, 'utf8').digest('base64');
  if (!sameText(expected, signature)) throw new S3Error('SignatureDoesNotMatch', undefined, { StringToSign: policy, SignatureProvided: signature, AWSAccessKeyId: accessKeyId });
  return { principal: { kind: 'user', credential, signatureVersion: 2, presigned: true }, policy };
}

function findCredential(lookup: CredentialLookup | undefined, accessKeyId: string) {
  const credential = lookup?.(accessKeyId);
  if (!credential) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  return credential;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const invalidPolicy = (detail: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${detail}`);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Decodes and validates the policy document; an expired one is AccessDenied. */
export function parsePolicy(base64: string, now = Date.now()): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const expires = typeof expiration === 'string' && ISO_DATE.test(expiration) ? Date.parse(expiration) : NaN;
  if (Number.isNaN(expires)) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  if (conditions.length === 0) throw invalidPolicy('Policy has no conditions.');
  const policy: PostPolicy = { expiration: expires, conditions: [] };
  for (const raw of conditions as unknown[]) {
    const text = JSON.stringify(raw);
    if (Array.isArray(raw)) {
      const op = typeof raw[0] === 'string' ? raw[0].toLowerCase() : '';
      if (op === 'content-length-range') {
        const [min, max] = [lengthBound(raw[1]), lengthBound(raw[2])];
        if (raw.length !== 3 || min === undefined || max === undefined || min > max) throw invalidPolicy(`Invalid content-length-range condition: ${text}`);
        const prev = policy.lengthRange;
        policy.lengthRange = prev ? { min: Math.max(prev.min, min), max: Math.min(prev.max, max) } : { min, max };
        continue;
      }
      if (op !== 'eq' && op !== 'starts-with') throw invalidPolicy(`Invalid condition type: ${text}`);
      const [, field, value] = raw as unknown[];
      if (raw.length !== 3 || typeof field !== 'string' || !field.startsWith('$') || !isScalar(value)) throw invalidPolicy(`Invalid '${op}' condition: ${text}`);
      policy.conditions.push({ kind: op, field: field.slice(1).toLowerCase(), value: String(value), text });
    } else if (typeof raw === 'object' && raw !== null) {
      const entries = Object.entries(raw);
      if (entries.length !== 1) throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      const [field, value] = entries[0]!;
      if (!isScalar(value)) throw invalidPolicy(`Invalid Simple-Condition: ${text}`);
      policy.conditions.push({ kind: 'eq', field: field.toLowerCase(), value: String(value), text });
    } else {
      throw invalidPolicy(`Invalid condition: ${text}`);
    }
  }
  if (expires < now) throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');
  return policy;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function lengthBound(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Checks every condition against the form (`values` holds the fields with the final key; the
 * bucket is the one posted to) and that every field is covered by a condition.
 */
export function checkPolicy(policy: PostPolicy, values: FormFields, bucket: string): void {
  const form = new Map(values);
  form.set('bucket', bucket);
  const covered = new Set(policy.conditions.map((c) => c.field));
  const extra = [...form.keys()].filter((name) => !isExemptField(name) && !covered.has(name));
  if (extra.length > 0) throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  for (const c of policy.conditions) {
    const value = form.get(c.field) ?? '';
    const ok = c.kind === 'eq'
      ? value === c.value
      // A Content-Type list must have every entry start with the prefix.
      : (c.field === 'content-type' ? value.split(',').map((v) => v.trim()) : [value]).every((v) => v.startsWith(c.value));
    if (!ok) throw new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${c.text}`);
  }
}
