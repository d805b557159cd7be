/**
 * Headers that ask for something this server does not do. A client that asked for KMS encryption
 * or a retention lock must never be told it got one: such requests are refused before any
 * body is read, with the error S3 itself gives where it has one (docs/compatibility.md lists them).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { header } from './headers.js';
import type { OpName } from './router.js';

/** The classes AWS knows. Objects are stored (and listed) as STANDARD whichever is asked: one tier here, as in MinIO. */
const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE']);
const SSE_VALUES = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const CHECKSUM_ALGORITHMS = new Set(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);

const SSE_KMS = ['x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context', 'x-amz-server-side-encryption-bucket-key-enabled'];
const SSE_C = ['x-amz-server-side-encryption-customer-algorithm', 'x-amz-server-side-encryption-customer-key', 'x-amz-server-side-encryption-customer-key-md5'];
const OBJECT_LOCK = ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold'];

/** Operations that create an object from headers (PostObject's form fields count as headers). */
const OBJECT_WRITES = new Set<OpName>(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject']);
const PART_WRITES = new Set<OpName>(['UploadPart', 'UploadPartCopy']);

const notImplemented = (name: string, what: string) => new S3Error('NotImplemented', `${what} is not supported by this server; the request was refused rather than stored without it.`, { Header: name });

/** Throws when the request asks for a feature that would otherwise be silently ignored. */
export function refuseUnsupported(op: OpName, headers: IncomingHttpHeaders, _query: URLSearchParams): void {
  // `?versionId=` is each operation's own (ops/versioning.ts requestedVersion): on a store
  // without versioning an id other than `null` is NoSuchVersion there, never the current object.
  if (op === 'CreateBucket') return checkCreateBucket(headers);
  const present = (name: string) => headers[name] !== undefined;
  if (OBJECT_WRITES.has(op)) {
    const sse = header(headers, 'x-amz-server-side-encryption');
    if (sse !== undefined) {
      if (!SSE_VALUES.has(sse.trim())) throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse.slice(0, 64) });
      // AES256 (SSE-S3) is done by the operation (s3/sse/); KMS keys are not.
      if (sse.trim() !== 'AES256') throw notImplemented('x-amz-server-side-encryption', 'Server-side encryption with KMS keys');
    }
    for (const name of SSE_KMS) if (present(name)) throw notImplemented(name, 'Server-side encryption with KMS keys');
    // S3's answer for a bucket without an Object Lock configuration, which is every bucket here.
    for (const name of OBJECT_LOCK) if (present(name)) throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration', { Header: name });
    checkStorageClass(headers);
  }
  if (OBJECT_WRITES.has(op) || PART_WRITES.has(op)) {
    // SSE-C is done by PutObject, CopyObject, multipart uploads and UploadPart (s3/sse/); not by POST forms.
    if (op === 'PostObject') for (const name of SSE_C) if (present(name)) throw notImplemented(name, 'Server-side encryption with customer-provided keys (SSE-C) in POST forms');
    if (present('x-amz-write-offset-bytes')) throw notImplemented('x-amz-write-offset-bytes', 'Appending to an object');
    const algorithm = header(headers, 'x-amz-checksum-algorithm');
    if (algorithm !== undefined && !CHECKSUM_ALGORITHMS.has(algorithm.trim().toUpperCase())) {
      throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]', { Header: 'x-amz-checksum-algorithm' });
    }
  }
  // GetObject, HeadObject, GetObjectAttributes and the copies check a key against the object (s3/sse/headers.ts).
}

function checkStorageClass(headers: IncomingHttpHeaders): void {
  const value = header(headers, 'x-amz-storage-class');
  if (value !== undefined && !STORAGE_CLASSES.has(value.trim())) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: value.slice(0, 64) });
}

function checkCreateBucket(headers: IncomingHttpHeaders): void {
  const lock = header(headers, 'x-amz-bucket-object-lock-enabled');
  if (lock === undefined) return;
  const value = lock.trim().toLowerCase();
  if (value === 'true') throw notImplemented('x-amz-bucket-object-lock-enabled', 'Object Lock');
  if (value !== 'false') throw new S3Error('InvalidArgument', 'x-amz-bucket-object-lock-enabled must be true or false', { ArgumentName: 'x-amz-bucket-object-lock-enabled', ArgumentValue: lock.slice(0, 64) });
}
