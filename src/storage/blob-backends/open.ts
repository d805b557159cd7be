/**
 * `--blobs` (OFFLOAD_BLOBS): where blob bytes go.
 *   (absent)                       the data folder's blobs/ (the embedded default)
 *   /mnt/shared/blobs              a folder several nodes share (CephFS, NFS): BlobFiles there
 *   s3://bucket/prefix?endpoint=http://host:port&region=us-east-1&forcePathStyle=true
 *                                  objects in an S3 bucket; credentials from accessKeyId= and
 *                                  secretAccessKey= in the URL, else the usual AWS_* variables
 * Backends other nodes may share spare young orphans for `orphanGraceMs=` (default 1 hour): a
 * node starting up must not reclaim a blob another node is about to commit.
 */
import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { BlobFiles, type BlobStorage } from '../blobs.js';
import { S3Blobs } from './s3.js';

export const DEFAULT_SHARED_GRACE_MS = 3600 * 1000;

export function openBlobStorage(spec: string, env: NodeJS.ProcessEnv = process.env): BlobStorage {
  if (!spec.startsWith('s3://')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new Error(`--blobs: unsupported URL scheme in ${JSON.stringify(spec)} (use s3://bucket/prefix or a folder path)`);
    return new BlobFiles(resolve(spec), { orphanGraceMs: DEFAULT_SHARED_GRACE_MS });
  }
  const url = new URL(spec);
  const bucket = url.hostname;
  if (bucket === '') throw new Error('--blobs: s3:// URL without a bucket name');
  const options = url.searchParams;
  const path = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  const accessKeyId = options.get('accessKeyId') ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = options.get('secretAccessKey') ?? env.AWS_SECRET_ACCESS_KEY;
  const client = new S3Client({
    endpoint: options.get('endpoint') ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    region: options.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: options.get('forcePathStyle') === 'true',
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN } : undefined,
    // Plain Content-MD5-less PUTs and GETs: older gateways (Ceph 16's RGW) refuse the SDK's
    // default aws-chunked trailing checksums. Integrity rests on our own MD5 of every body.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const grace = options.get('orphanGraceMs');
  return new S3Blobs({ client, bucket, prefix, orphanGraceMs: grace === null ? DEFAULT_SHARED_GRACE_MS : Number(grace) });
}
