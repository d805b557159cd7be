/**
 * Bucket policies: parsed and validated once when stored, evaluated on every request.
 * Only what is understood is accepted: any element, operator or condition key this module
 * does not evaluate is refused with MalformedPolicy naming it, never silently ignored.
 */
import { isIP } from 'node:net';
import { S3Error } from '../../errors/s3-error.js';

export type Effect = 'Allow' | 'Deny';

export interface PolicyStatement {
  sid?: string;
  effect: Effect;
  /** '*' for everyone (anonymous included), else canonical ids / account ids. */
  principals: '*' | string[];
  actions: RegExp[];
  resources: RegExp[];
  conditions: Condition[];
}

export interface Condition {
  operator: string;
  key: ConditionKey;
  values: string[];
}

export interface Policy {
  statements: PolicyStatement[];
}

/** What a request offers to the policy. */
export interface PolicyRequest {
  /** Canonical id of the caller, undefined when anonymous. */
  caller?: string;
  action: string;
  /** `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`. */
  resource: string;
  sourceIp?: string;
  referer?: string;
  userAgent?: string;
  secureTransport: boolean;
  /** ListBucket parameters (`s3:prefix`, `s3:delimiter`, `s3:max-keys`). */
  prefix?: string;
  delimiter?: string;
  maxKeys?: string;
}

export type Decision = 'Allow' | 'Deny' | 'Default';

const CONDITION_KEYS = ['aws:SourceIp', 'aws:Referer', 'aws:UserAgent', 'aws:SecureTransport', 's3:prefix', 's3:delimiter', 's3:max-keys'] as const;
type ConditionKey = (typeof CONDITION_KEYS)[number];

const STRING_OPERATORS = ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'];
const IP_OPERATORS = ['IpAddress', 'NotIpAddress'];
const BOOL_OPERATORS = ['Bool'];
const NUMERIC_OPERATORS = ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'];

const malformed = (message: string) => new S3Error('MalformedPolicy', message);

/** Parses and validates a policy document; throws MalformedPolicy naming what is wrong. */
export function parsePolicy(text: string, bucket: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('Policies must be valid JSON');
  }
  if (!isObject(doc)) throw malformed('Policies must be a JSON object');
  for (const name of Object.keys(doc)) {
    if (!['Version', 'Id', 'Statement'].includes(name)) throw malformed(`Unsupported policy element: ${name}`);
  }
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformed(`Unsupported policy version: ${String(doc.Version)}`);
  const raw = doc.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (list.length === 0) throw malformed('Missing required field Statement');
  return { statements: list.map((s) => parseStatement(s, bucket)) };
}

function parseStatement(raw: unknown, bucket: string): PolicyStatement {
  if (!isObject(raw)) throw malformed('Each Statement must be a JSON object');
  for (const name of Object.keys(raw)) {
    if (!['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'].includes(name)) throw malformed(`Unsupported policy element: ${name}`);
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw malformed('Effect must be Allow or Deny');
  if (raw.Principal === undefined) throw malformed('Missing required field Principal');
  if (raw.Action === undefined) throw malformed('Missing required field Action');
  if (raw.Resource === undefined) throw malformed('Missing required field Resource');
  const actions = strings(raw.Action, 'Action').map((a) => {
    if (a !== '*' && !/^s3:[A-Za-z*?]+$/.test(a)) throw malformed(`Policy has invalid action: ${a}`);
    return wildcard(a, true);
  });
  const resources = strings(raw.Resource, 'Resource').map((r) => {
    const m = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(r);
    if (!m) throw malformed(`Policy has invalid resource: ${r}`);
    if (!matches(wildcard(m[1]!), bucket)) throw malformed(`Policy has invalid resource: ${r} (it names another bucket)`);
    return wildcard(r);
  });
  return {
    sid: typeof raw.Sid === 'string' ? raw.Sid : undefined,
    effect: raw.Effect,
    principals: parsePrincipal(raw.Principal),
    actions,
    resources,
    conditions: raw.Condition === undefined ? [] : parseConditions(raw.Condition),
  };
}

function parsePrincipal(raw: unknown): '*' | string[] {
  if (raw === '*') return '*';
  if (!isObject(raw)) throw malformed('Invalid principal in policy');
  const ids: string[] = [];
  for (const [type, value] of Object.entries(raw)) {
    if (type !== 'AWS' && type !== 'CanonicalUser') throw malformed(`Unsupported principal type: ${type}`);
    for (const v of strings(value, 'Principal')) {
      if (v === '*') return '*';
      // arn:aws:iam::<account>:root and bare ids both name an owner by its id here.
      const account = /^arn:aws:iam::([^:]+):(root|user\/.+)$/.exec(v)?.[1];
      ids.push(account ?? v);
    }
  }
  return ids;
}

function parseConditions(raw: unknown): Condition[] {
  if (!isObject(raw)) throw malformed('Condition must be a JSON object');
  const out: Condition[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    const known = [...STRING_OPERATORS, ...IP_OPERATORS, ...BOOL_OPERATORS, ...NUMERIC_OPERATORS];
    if (!known.includes(operator)) throw malformed(`Unsupported condition operator: ${operator}`);
    if (!isObject(block)) throw malformed(`Condition ${operator} must be a JSON object`);
    for (const [key, value] of Object.entries(block)) {
      const known = CONDITION_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
      if (!known) throw malformed(`Unsupported condition key: ${key}`);
      const values = strings(value, key);
      if (IP_OPERATORS.includes(operator)) {
        if (known !== 'aws:SourceIp') throw malformed(`${operator} applies only to aws:SourceIp, not ${key}`);
        for (const v of values) if (!parseCidr(v)) throw malformed(`Invalid IP address or range: ${v}`);
      }
      out.push({ operator, key: known, values });
    }
  }
  return out;
}

function strings(value: unknown, element: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((v) => typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')) throw malformed(`${element} must be a string or a list of strings`);
  return list.map(String);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** IAM wildcards: `*` any run, `?` any one character. */
function wildcard(pattern: string, ignoreCase = false): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

const matches = (re: RegExp, value: string) => re.test(value);

/** Explicit Deny wins over Allow; with neither, the ACLs decide. */
export function evaluatePolicy(policy: Policy, req: PolicyRequest): Decision {
  let decision: Decision = 'Default';
  for (const st of policy.statements) {
    if (!appliesTo(st, req)) continue;
    if (st.effect === 'Deny') return 'Deny';
    decision = 'Allow';
  }
  return decision;
}

function appliesTo(st: PolicyStatement, req: PolicyRequest): boolean {
  if (st.principals !== '*' && (req.caller === undefined || !st.principals.includes(req.caller))) return false;
  if (!st.actions.some((a) => a.test(req.action))) return false;
  if (!st.resources.some((r) => r.test(req.resource))) return false;
  return st.conditions.every((c) => conditionHolds(c, req));
}

function requestValue(key: ConditionKey, req: PolicyRequest): string | undefined {
  switch (key) {
    case 'aws:SourceIp': return req.sourceIp;
    case 'aws:Referer': return req.referer;
    case 'aws:UserAgent': return req.userAgent;
    case 'aws:SecureTransport': return String(req.secureTransport);
    case 's3:prefix': return req.prefix;
    case 's3:delimiter': return req.delimiter;
    case 's3:max-keys': return req.maxKeys;
  }
}

function conditionHolds(c: Condition, req: PolicyRequest): boolean {
  const actual = requestValue(c.key, req);
  const negated = c.operator.includes('Not');
  // A missing key fails positive operators and satisfies negated ones, as IAM does.
  if (actual === undefined) return negated;
  let hit: boolean;
  switch (c.operator) {
    case 'StringEquals': case 'StringNotEquals': hit = c.values.includes(actual); break;
    case 'StringEqualsIgnoreCase': case 'StringNotEqualsIgnoreCase': hit = c.values.some((v) => v.toLowerCase() === actual.toLowerCase()); break;
    case 'StringLike': case 'StringNotLike': hit = c.values.some((v) => wildcard(v).test(actual)); break;
    case 'IpAddress': case 'NotIpAddress': hit = c.values.some((v) => ipInCidr(actual, v)); break;
    case 'Bool': hit = c.values.some((v) => v.toLowerCase() === actual.toLowerCase()); break;
    default: hit = numeric(c.operator, Number(actual), c.values.map(Number));
  }
  return negated ? !hit : hit;
}

function numeric(op: string, actual: number, values: number[]): boolean {
  return values.some((v) => {
    switch (op) {
      case 'NumericEquals': case 'NumericNotEquals': return actual === v;
      case 'NumericLessThan': return actual < v;
      case 'NumericLessThanEquals': return actual <= v;
      case 'NumericGreaterThan': return actual > v;
      default: return actual >= v;
    }
  });
}

/** Can the policy's answer depend on who asks from where (source IP, Referer, User-Agent, TLS)? */
export function dependsOnRequest(policy: Policy): boolean {
  return policy.statements.some((s) => s.conditions.some((c) => c.key.startsWith('aws:')));
}

/** Is the statement a grant to everyone with nothing restricting it (GetBucketPolicyStatus)? */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.statements.some((s) => s.effect === 'Allow' && s.principals === '*' && s.conditions.length === 0);
}

type Cidr = { bytes: Buffer; bits: number };

function parseCidr(text: string): Cidr | undefined {
  const [addr = '', bitsText] = text.split('/');
  const bytes = ipBytes(addr);
  if (!bytes) return undefined;
  const bits = bitsText === undefined ? bytes.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) return undefined;
  return { bytes, bits };
}

function ipBytes(addr: string): Buffer | undefined {
  const v4 = addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
  if (isIP(v4) === 4) return Buffer.from(v4.split('.').map(Number));
  if (isIP(addr) !== 6) return undefined;
  const [head = '', tail] = addr.split('::');
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const h = group(head);
  const t = tail === undefined ? [] : group(tail);
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

function ipInCidr(ip: string, cidrText: string): boolean {
  const cidr = parseCidr(cidrText);
  const bytes = ipBytes(ip);
  if (!cidr || !bytes || bytes.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((bytes[bit >> 3]! & mask) !== (cidr.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}
