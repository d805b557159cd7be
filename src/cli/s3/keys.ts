/** s3:// locations, object keys from local paths and back, sizes and durations from the command line. */
import { sep, resolve, join } from 'node:path';
import { usage } from './errors.js';
import { parseByteSize } from '../../util/size.js';

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** Key prefix without a leading slash; '' for the whole bucket. May or may not end with '/'. */
  prefix: string;
}
export interface LocalLocation {
  kind: 'local';
  path: string;
}
export type Location = S3Location | LocalLocation;

export function isS3Url(arg: string): boolean {
  return /^s3:\/\//i.test(arg);
}

/** Parses `s3://bucket[/prefix]`; anything else is a local path. */
export function parseLocation(arg: string): Location {
  if (!isS3Url(arg)) {
    if (arg === '') usage('empty path');
    return { kind: 'local', path: resolve(arg) };
  }
  return parseS3Url(arg);
}

export function parseS3Url(arg: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(arg);
  if (!m) usage(`not an s3:// URL: ${arg}`);
  const bucket = m[1] ?? '';
  if (!bucket) usage(`no bucket name in ${arg} (expected s3://bucket[/prefix])`);
  const invalid = bucketNameProblem(bucket);
  if (invalid) usage(`invalid bucket name "${bucket}": ${invalid}`);
  return { kind: 's3', bucket, prefix: (m[2] ?? '').normalize('NFC') };
}

/**
 * Why a name breaks the S3 bucket naming rules (AWS, R2, MinIO and offload serve all apply them),
 * or undefined. Checked before any request, since a service answers a bad name with a misleading
 * NoSuchBucket. (Only AWS buckets created in us-east-1 before March 2018 may have other names.)
 */
export function bucketNameProblem(name: string): string | undefined {
  const rule = 'bucket names are 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit';
  if (name.length < 3 || name.length > 63) return `${rule} (this one has ${name.length} characters)`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return rule;
  if (name.includes('..')) return 'two dots in a row are not allowed';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'a bucket name must not look like an IP address';
  return undefined;
}

/** The prefix as a folder: '' or ending in '/'. */
export function folderPrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/';
}

/** Object key for a path relative to the source root (any OS separator), NFC-normalised. */
export function keyFor(prefix: string, rel: string): string {
  const clean = rel.split(sep).join('/').replace(/^\.\/+/, '').normalize('NFC');
  return folderPrefix(prefix) + clean;
}

/** The key relative to a folder prefix, or undefined when outside it. */
export function relFromKey(prefix: string, key: string): string | undefined {
  const p = folderPrefix(prefix);
  return key.startsWith(p) ? key.slice(p.length) : undefined;
}

/**
 * Local path for a relative key under root, or undefined when the key cannot be a safe file name
 * (empty segments, `.`/`..`, NUL, folder markers ending in '/', backslashes on Windows).
 */
export function safeLocalPath(root: string, rel: string): string | undefined {
  if (rel === '' || rel.endsWith('/') || rel.includes('\0')) return undefined;
  const parts = rel.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') return undefined;
    if (sep === '\\' && /[\\:]/.test(part)) return undefined;
  }
  return join(root, ...parts);
}

/** Parses sizes like `16MiB`, `5mb`, `1048576`. */
export function parseSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) usage(`not a size: ${text} (examples: 16MiB, 5MB, 1048576)`);
  return bytes;
}

/** Parses durations like `3600`, `90s`, `15m`, `1h`, `7d` into seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*(s|sec|m|min|h|d)?\s*$/i.exec(text);
  if (!m) usage(`not a duration: ${text} (examples: 3600, 15m, 1h, 7d)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor = unit.startsWith('s') ? 1 : unit.startsWith('m') ? 60 : unit === 'h' ? 3600 : 86400;
  return n * factor;
}

export function parsePositiveInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) usage(`${name} must be a whole number, got ${text}`);
    return n;
  };
}

export { formatBytes } from '../../format.js';

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
