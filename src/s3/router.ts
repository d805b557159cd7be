/**
 * Routing is a pure function: method, path, query and a header or two become a typed
 * `Operation` before any I/O. Sub-resources are matched in the order S3 documents them;
 * anything unknown still gets a name so that it can answer NotImplemented honestly.
 */
import { S3Error } from '../errors/s3-error.js';

export const SERVICE_OPS = ['ListBuckets'] as const;

export const BUCKET_OPS = [
  'CreateBucket', 'HeadBucket', 'DeleteBucket', 'GetBucketLocation', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions',
  'DeleteObjects', 'ListMultipartUploads', 'PostObject',
  'GetBucketAcl', 'PutBucketAcl', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus',
  'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite',
  'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging', 'GetBucketVersioning', 'PutBucketVersioning',
  'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
  'GetBucketLogging', 'PutBucketLogging', 'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption',
  'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls',
  'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock',
  'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration', 'GetObjectLockConfiguration', 'PutObjectLockConfiguration',
  'GetBucketReplication', 'PutBucketReplication', 'DeleteBucketReplication', 'GetBucketAccelerateConfiguration', 'PutBucketAccelerateConfiguration',
  'GetBucketRequestPayment', 'PutBucketRequestPayment', 'BucketSubresource',
] as const;

export const OBJECT_OPS = [
  'PutObject', 'CopyObject', 'GetObject', 'HeadObject', 'DeleteObject',
  'GetObjectAcl', 'PutObjectAcl', 'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging', 'GetObjectAttributes',
  'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts',
  'GetObjectRetention', 'PutObjectRetention', 'GetObjectLegalHold', 'PutObjectLegalHold', 'RestoreObject', 'SelectObjectContent', 'GetObjectTorrent',
] as const;

export type ServiceOpName = (typeof SERVICE_OPS)[number];
export type BucketOpName = (typeof BUCKET_OPS)[number];
export type ObjectOpName = (typeof OBJECT_OPS)[number];
export type OpName = ServiceOpName | BucketOpName | ObjectOpName | 'CorsPreflight';

export type Operation =
  | { op: ServiceOpName }
  | { op: BucketOpName; bucket: string }
  | { op: ObjectOpName; bucket: string; key: string }
  | { op: 'CorsPreflight'; bucket: string; key?: string };

export interface RouteInput {
  method: string;
  /** Path as received (percent-encoded), without the query. */
  rawPath: string;
  query: URLSearchParams;
  /** Bucket taken from the Host header (virtual-hosted style or custom domain), if any. */
  hostBucket?: string;
  copySource?: string;
}

/** Splits the path into bucket and key (the key may be empty, may start with '/', keeps '..' untouched). */
export function splitPath(rawPath: string, hostBucket?: string): { bucket?: string; key?: string } {
  const path = decodePath(rawPath);
  if (hostBucket !== undefined) {
    const key = path.slice(1);
    return { bucket: hostBucket, key: key === '' ? undefined : key };
  }
  const rest = path.slice(1);
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: rest };
  const key = rest.slice(slash + 1);
  return { bucket: rest.slice(0, slash), key: key === '' ? undefined : key };
}

function decodePath(rawPath: string): string {
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  try {
    return decodeURIComponent(rawPath);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

const has = (q: URLSearchParams, name: string) => q.has(name);

export function route(input: RouteInput): Operation {
  const { method, query: q } = input;
  const { bucket, key } = splitPath(input.rawPath, input.hostBucket);
  if (bucket === undefined) {
    if (method === 'GET' || method === 'HEAD') return { op: 'ListBuckets' };
    throw new S3Error('MethodNotAllowed', undefined, {}, { Allow: 'GET' });
  }
  if (method === 'OPTIONS') return key === undefined ? { op: 'CorsPreflight', bucket } : { op: 'CorsPreflight', bucket, key };
  if (key === undefined) return { op: bucketOp(method, q), bucket };
  return { op: objectOp(method, q, input.copySource !== undefined), bucket, key };
}

const BUCKET_SUBRESOURCES: Record<string, Partial<Record<string, BucketOpName>>> = {
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  policyStatus: { GET: 'GetBucketPolicyStatus' },
  cors: { GET: 'GetBucketCors', PUT: 'PutBucketCors', DELETE: 'DeleteBucketCors' },
  website: { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'DeleteBucketTagging' },
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  location: { GET: 'GetBucketLocation' },
  lifecycle: { GET: 'GetBucketLifecycleConfiguration', PUT: 'PutBucketLifecycleConfiguration', DELETE: 'DeleteBucketLifecycle' },
  logging: { GET: 'GetBucketLogging', PUT: 'PutBucketLogging' },
  encryption: { GET: 'GetBucketEncryption', PUT: 'PutBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  ownershipControls: { GET: 'GetBucketOwnershipControls', PUT: 'PutBucketOwnershipControls', DELETE: 'DeleteBucketOwnershipControls' },
  publicAccessBlock: { GET: 'GetPublicAccessBlock', PUT: 'PutPublicAccessBlock', DELETE: 'DeletePublicAccessBlock' },
  notification: { GET: 'GetBucketNotificationConfiguration', PUT: 'PutBucketNotificationConfiguration' },
  'object-lock': { GET: 'GetObjectLockConfiguration', PUT: 'PutObjectLockConfiguration' },
  replication: { GET: 'GetBucketReplication', PUT: 'PutBucketReplication', DELETE: 'DeleteBucketReplication' },
  accelerate: { GET: 'GetBucketAccelerateConfiguration', PUT: 'PutBucketAccelerateConfiguration' },
  requestPayment: { GET: 'GetBucketRequestPayment', PUT: 'PutBucketRequestPayment' },
  uploads: { GET: 'ListMultipartUploads' },
  versions: { GET: 'ListObjectVersions' },
  delete: { POST: 'DeleteObjects' },
};

/** Sub-resources S3 has that this table does not route: they answer NotImplemented under one name. */
const OTHER_BUCKET_SUBRESOURCES = ['analytics', 'metrics', 'inventory', 'intelligent-tiering', 'torrent', 'session', 'metadataTable'];

function bucketOp(method: string, q: URLSearchParams): BucketOpName {
  for (const [name, byMethod] of Object.entries(BUCKET_SUBRESOURCES)) {
    if (!has(q, name)) continue;
    // Own properties only: a method named like an Object.prototype member (valueOf) is no operation.
    const op = Object.hasOwn(byMethod, method) ? byMethod[method] : undefined;
    if (op) return op;
    throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: name.toUpperCase() }, { Allow: Object.keys(byMethod).join(', ') });
  }
  if (OTHER_BUCKET_SUBRESOURCES.some((name) => has(q, name))) return 'BucketSubresource';
  switch (method) {
    case 'PUT': return 'CreateBucket';
    case 'HEAD': return 'HeadBucket';
    case 'DELETE': return 'DeleteBucket';
    case 'GET': return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    case 'POST': return 'PostObject';
    default: throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'BUCKET' }, { Allow: 'GET, HEAD, PUT, DELETE, POST' });
  }
}

function objectOp(method: string, q: URLSearchParams, copy: boolean): ObjectOpName {
  switch (method) {
    case 'PUT':
      if (has(q, 'acl')) return 'PutObjectAcl';
      if (has(q, 'tagging')) return 'PutObjectTagging';
      if (has(q, 'retention')) return 'PutObjectRetention';
      if (has(q, 'legal-hold')) return 'PutObjectLegalHold';
      if (has(q, 'uploadId') || has(q, 'partNumber')) return copy ? 'UploadPartCopy' : 'UploadPart';
      return copy ? 'CopyObject' : 'PutObject';
    case 'GET':
      if (has(q, 'acl')) return 'GetObjectAcl';
      if (has(q, 'tagging')) return 'GetObjectTagging';
      if (has(q, 'attributes')) return 'GetObjectAttributes';
      if (has(q, 'retention')) return 'GetObjectRetention';
      if (has(q, 'legal-hold')) return 'GetObjectLegalHold';
      if (has(q, 'torrent')) return 'GetObjectTorrent';
      if (has(q, 'uploadId')) return 'ListParts';
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      if (has(q, 'tagging')) return 'DeleteObjectTagging';
      if (has(q, 'uploadId')) return 'AbortMultipartUpload';
      return 'DeleteObject';
    case 'POST':
      if (has(q, 'uploads')) return 'CreateMultipartUpload';
      if (has(q, 'uploadId')) return 'CompleteMultipartUpload';
      if (has(q, 'restore')) return 'RestoreObject';
      if (has(q, 'select')) return 'SelectObjectContent';
      throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' }, { Allow: 'GET, HEAD, PUT, DELETE' });
    default:
      throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' }, { Allow: 'GET, HEAD, PUT, DELETE, POST' });
  }
}

/**
 * Which bucket, if any, the Host header names: `bucket.<domain>` (virtual-hosted style), or
 * a bucket named exactly like the host (S3's CNAME convention). The API's own host (the
 * domain itself, an IP literal, localhost) means path style.
 */
export function bucketFromHost(hostHeader: string | undefined, domain: string, isBucket: (name: string) => boolean): string | undefined {
  if (!hostHeader) return undefined;
  const host = stripPort(hostHeader).toLowerCase();
  if (host === domain || host === 'localhost' || isIpLiteral(host)) return undefined;
  const suffix = `.${domain}`;
  if (host.endsWith(suffix)) return host.slice(0, -suffix.length);
  return isBucket(host) ? host : undefined;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}
