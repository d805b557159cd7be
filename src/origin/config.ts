/**
 * A bucket's origin: the bucket config document of kind 'origin' (JSON), parsed and checked here.
 * The upstream S3 secret lives only in that document, inside the server's data folder; what the
 * admin API returns is `maskedOrigin()`, never the secret.
 */
import type { Store } from '../storage/types.js';

export interface UpstreamS3 {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface PrefixMapping {
  /** The bucket key prefix ... */
  from: string;
  /** ... becomes this origin path (or upstream key) prefix. */
  to: string;
}

export interface OriginConfig {
  /** An HTTP(S) origin: the key is appended to this URL. Exactly one of url and s3. */
  url?: string;
  s3?: UpstreamS3;
  prefixMap: PrefixMapping[];
  /** Request headers passed to the origin (none by default; never credentials). */
  forwardHeaders: string[];
  connectTimeoutMs: number;
  /** Longest silence while reading the origin's answer. */
  readTimeoutMs: number;
  /** Larger answers are streamed through to the client and not stored. */
  maxObjectSize: number;
  /** Bytes the bucket may hold; the least recently used filled objects are evicted above it. */
  capacity?: number;
  /** Filled objects are public-read (anonymous GETs may fill them). */
  public: boolean;
  /** Seconds a 404 from the origin is remembered. */
  negativeTtl: number;
  /** Seconds an answer without Cache-Control max-age/s-maxage or Expires is fresh. */
  defaultTtl: number;
  /** Addresses (or CIDRs) of private networks this origin may use (never link-local/metadata ones). */
  allowPrivateAddresses: string[];
}

export const ORIGIN_DEFAULTS = {
  connectTimeoutMs: 5_000,
  readTimeoutMs: 30_000,
  maxObjectSize: 1024 ** 3,
  negativeTtl: 10,
  defaultTtl: 300,
} as const;

export class OriginConfigError extends Error {}

/** Headers a client's identity travels in: forwarding them would hand its credentials to the origin. */
const NEVER_FORWARDED = /^(authorization|proxy-authorization|cookie|x-amz-.*|host|connection|content-length|transfer-encoding|range|if-.*)$/i;

/** Checks a document (from the admin API or the store) and fills in the defaults. */
export function parseOriginConfig(input: unknown): OriginConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new OriginConfigError('the origin configuration must be a JSON object');
  const doc = input as Record<string, unknown>;
  const known = new Set(['url', 's3', 'prefixMap', 'forwardHeaders', 'connectTimeoutMs', 'readTimeoutMs', 'maxObjectSize', 'capacity', 'public', 'negativeTtl', 'defaultTtl', 'allowPrivateAddresses']);
  for (const name of Object.keys(doc)) if (!known.has(name)) throw new OriginConfigError(`unknown field "${name}"`);
  if ((doc.url === undefined) === (doc.s3 === undefined)) throw new OriginConfigError('give exactly one of url (an HTTP origin) and s3 (an upstream S3 bucket)');
  const config: OriginConfig = {
    prefixMap: prefixMap(doc.prefixMap),
    forwardHeaders: stringList(doc.forwardHeaders, 'forwardHeaders').map((h) => h.toLowerCase()),
    connectTimeoutMs: count(doc.connectTimeoutMs, 'connectTimeoutMs', ORIGIN_DEFAULTS.connectTimeoutMs, 1, 600_000),
    readTimeoutMs: count(doc.readTimeoutMs, 'readTimeoutMs', ORIGIN_DEFAULTS.readTimeoutMs, 1, 3_600_000),
    maxObjectSize: count(doc.maxObjectSize, 'maxObjectSize', ORIGIN_DEFAULTS.maxObjectSize, 0, 5 * 1024 ** 4),
    capacity: doc.capacity === undefined ? undefined : count(doc.capacity, 'capacity', 0, 1, Number.MAX_SAFE_INTEGER),
    public: doc.public === undefined ? false : bool(doc.public, 'public'),
    negativeTtl: count(doc.negativeTtl, 'negativeTtl', ORIGIN_DEFAULTS.negativeTtl, 0, 86_400),
    defaultTtl: count(doc.defaultTtl, 'defaultTtl', ORIGIN_DEFAULTS.defaultTtl, 0, 31_536_000),
    allowPrivateAddresses: stringList(doc.allowPrivateAddresses, 'allowPrivateAddresses'),
  };
  for (const name of config.forwardHeaders) {
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new OriginConfigError(`"${name}" is not a header name`);
    if (NEVER_FORWARDED.test(name)) throw new OriginConfigError(`the ${name} header is never forwarded to an origin (it carries the client's credentials or framing)`);
  }
  if (doc.url !== undefined) config.url = httpUrl(doc.url, 'url', true);
  else config.s3 = upstream(doc.s3);
  return config;
}

function upstream(value: unknown): UpstreamS3 {
  if (typeof value !== 'object' || value === null) throw new OriginConfigError('s3 must be an object {endpoint, bucket, region?, accessKeyId?, secretAccessKey?}');
  const v = value as Record<string, unknown>;
  if (typeof v.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v.bucket)) throw new OriginConfigError('s3.bucket must be a bucket name');
  const region = v.region === undefined ? 'us-east-1' : v.region;
  if (typeof region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(region)) throw new OriginConfigError('s3.region must be a region name');
  const s3: UpstreamS3 = { endpoint: httpUrl(v.endpoint, 's3.endpoint', false).replace(/\/$/, ''), bucket: v.bucket, region };
  if ((v.accessKeyId === undefined) !== (v.secretAccessKey === undefined)) throw new OriginConfigError('give both s3.accessKeyId and s3.secretAccessKey, or neither (anonymous reads)');
  if (v.accessKeyId !== undefined) {
    if (typeof v.accessKeyId !== 'string' || !/^[A-Za-z0-9+/=_-]{1,128}$/.test(v.accessKeyId)) throw new OriginConfigError('s3.accessKeyId is not an access key');
    if (typeof v.secretAccessKey !== 'string' || v.secretAccessKey.length < 1 || v.secretAccessKey.length > 256) throw new OriginConfigError('s3.secretAccessKey is not a secret key');
    s3.accessKeyId = v.accessKeyId;
    s3.secretAccessKey = v.secretAccessKey;
  }
  return s3;
}

function httpUrl(value: unknown, name: string, pathAllowed: boolean): string {
  if (typeof value !== 'string') throw new OriginConfigError(`${name} must be an http:// or https:// URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OriginConfigError(`${name} is not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OriginConfigError(`${name} must be an http:// or https:// URL`);
  if (url.username !== '' || url.password !== '') throw new OriginConfigError(`${name} must not carry a user name or password`);
  if (url.search !== '' || url.hash !== '') throw new OriginConfigError(`${name} must have no query or fragment`);
  if (!pathAllowed && url.pathname !== '/') throw new OriginConfigError(`${name} must be the endpoint's root URL, without a path`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

function prefixMap(value: unknown): PrefixMapping[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 100) throw new OriginConfigError('prefixMap must be a list of {from, to} (at most 100)');
  return value.map((m: unknown) => {
    const { from, to } = (m ?? {}) as Record<string, unknown>;
    if (typeof from !== 'string' || typeof to !== 'string' || from.length > 1024 || to.length > 1024) throw new OriginConfigError('each prefixMap entry is {from: string, to: string}');
    return { from, to };
  });
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 64 || !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 256)) throw new OriginConfigError(`${name} must be a list of strings`);
  return value as string[];
}

function count(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new OriginConfigError(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

function bool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new OriginConfigError(`${name} must be true or false`);
  return value;
}

/** The configuration as the admin API shows it: the upstream secret replaced by a mark. */
export function maskedOrigin(config: OriginConfig): Record<string, unknown> {
  if (!config.s3?.secretAccessKey) return { ...config };
  return { ...config, s3: { ...config.s3, secretAccessKey: '********' } };
}

/** The key's path (or upstream key) at the origin: the first matching prefix mapping applies. */
export function originKey(config: OriginConfig, key: string): string {
  for (const m of config.prefixMap) if (key.startsWith(m.from)) return m.to + key.slice(m.from.length);
  return key;
}

const parsed = new Map<string, OriginConfig>();
const unreadable = new Set<string>();

/** The bucket's origin, or undefined. Parsed once per stored document (bucket reads are synchronous). */
export function bucketOrigin(store: Store, bucket: string): OriginConfig | undefined {
  const text = store.getBucketConfig(bucket, 'origin');
  if (text === undefined) return undefined;
  let config = parsed.get(text);
  if (config === undefined) {
    try {
      config = parseOriginConfig(JSON.parse(text));
    } catch (err) {
      // Stored by an older or newer server: answer as a plain bucket rather than fail every GET.
      if (!unreadable.has(text)) console.error(`offload: the origin of bucket ${bucket} cannot be read (${(err as Error).message}); it is ignored`);
      unreadable.add(text);
      return undefined;
    }
    if (parsed.size > 256) parsed.clear();
    parsed.set(text, config);
  }
  return config;
}
