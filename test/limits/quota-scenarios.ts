/**
 * Bucket quota scenarios run against a deployment of several server processes on one metadata
 * database: `--workers 2` on one data folder (quota-workers.test.ts), two `--meta` nodes on one
 * PostgreSQL (test/server/pg-quota.test.ts). `client(i)` is a client on connections of its own,
 * spread over the processes: racing writers and "the other process" really are other processes.
 */
import { spawnSync } from 'node:child_process';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, ListPartsCommand, PutBucketVersioningCommand, PutObjectCommand, PutObjectTaggingCommand, S3ServiceException, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { CLI, type TestServer } from '../helpers/server.js';

export interface QuotaDeployment {
  /** The processes (each answers the admin API and the metrics). */
  servers: TestServer[];
  /** A client on its own connections; i picks the process where the deployment can choose. */
  client(i: number): S3Client;
}

export type Outcome = { status: number; code?: string; message?: string };

export async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof S3ServiceException)) throw err;
    return { status: err.$metadata.httpStatusCode ?? 0, code: err.name, message: err.message };
  }
}

const REFUSED = { status: 403, code: 'XOffloadQuotaExceeded' };

async function admin(server: TestServer, method: string, path: string, body?: string) {
  return rawRequest(server, toHttp(await signRequest(server, { method, path, body, headers: body ? { 'content-type': 'application/json' } : {} })));
}

export async function setLimits(server: TestServer, bucket: string, limits: Record<string, number>): Promise<void> {
  expect((await admin(server, 'PUT', `/_offload/buckets/${bucket}/limits`, JSON.stringify(limits))).status).toBe(200);
}

/** The quota use as the limits endpoint of `server` reports it. */
export async function quotaUse(server: TestServer, bucket: string): Promise<{ bytes: number; objects: number } | undefined> {
  return (JSON.parse((await admin(server, 'GET', `/_offload/buckets/${bucket}/limits`)).body) as { quotaUse?: { bytes: number; objects: number } }).quotaUse;
}

async function listedBytes(s3: S3Client, bucket: string): Promise<{ bytes: number; objects: number }> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return { bytes: (listed.Contents ?? []).reduce((n, o) => n + (o.Size ?? 0), 0), objects: listed.KeyCount ?? 0 };
}

const put = (s3: S3Client, bucket: string, key: string, size: number) => outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size, key.length) })));

/** 16 writers, spread over the processes, race for the last bytes, then for the last objects. */
export async function raceTheLastBytes(d: QuotaDeployment, bucket: string): Promise<void> {
  const s3 = d.client(0);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; i < 5; i++) expect(await put(s3, bucket, `seed-${i}`, 1000)).toEqual({ status: 200 });
  // Set after the seeds: the usage is counted from what the bucket already holds.
  await setLimits(d.servers[1 % d.servers.length]!, bucket, { maxBytes: 10_000, maxObjects: 50 });
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => put(d.client(i), bucket, `race-${i}`, 1000)));
  expect(results.filter((r) => r.status === 200).length).toBe(5);
  const refused = results.filter((r) => r.status !== 200);
  expect(refused.every((r) => r.status === 403 && r.code === 'XOffloadQuotaExceeded')).toBe(true);
  expect(refused[0]!.message).toMatch(/^The write would take the bucket past its quota of 10000 bytes \(\d+ stored\)\.$/);
  expect(await listedBytes(s3, bucket)).toEqual({ bytes: 10_000, objects: 10 });
  for (const server of d.servers) expect(await quotaUse(server, bucket)).toEqual({ bytes: 10_000, objects: 10 });

  await setLimits(d.servers[0]!, bucket, { maxBytes: 100_000, maxObjects: 12 });
  const small = await Promise.all(Array.from({ length: 16 }, (_, i) => put(d.client(i), bucket, `small-${i}`, 1)));
  expect(small.filter((r) => r.status === 200).length).toBe(2);
  expect(small.filter((r) => r.status !== 200).every((r) => r.status === 403 && r.message === 'The write would take the bucket past its quota of 12 objects.')).toBe(true);
  expect(await listedBytes(s3, bucket)).toEqual({ bytes: 10_002, objects: 12 });
}

/** An overwrite counts its size difference; a delete through one process frees room for a write through the next at once. */
export async function overwritesAndDeletes(d: QuotaDeployment, bucket: string): Promise<void> {
  const s3 = d.client(0);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await setLimits(d.servers[0]!, bucket, { maxBytes: 3000 });
  for (const key of ['a', 'b', 'c']) expect(await put(d.client(key.charCodeAt(0)), bucket, key, 1000)).toEqual({ status: 200 });
  expect(await put(d.client(1), bucket, 'a', 1500)).toMatchObject(REFUSED);
  expect(await put(d.client(2), bucket, 'a', 500)).toEqual({ status: 200 });
  expect(await put(d.client(3), bucket, 'd', 600)).toMatchObject(REFUSED);
  expect(await put(d.client(4), bucket, 'd', 500)).toEqual({ status: 200 });
  expect(await put(d.client(5), bucket, 'e', 1)).toMatchObject(REFUSED);
  for (let i = 0; i < 4; i++) {
    const gone = i % 2 === 0 ? 'b' : 'x';
    const next = i % 2 === 0 ? 'x' : 'b';
    await d.client(2 * i).send(new DeleteObjectCommand({ Bucket: bucket, Key: gone }));
    expect(await put(d.client(2 * i + 1), bucket, next, 1000)).toEqual({ status: 200 });
  }
  expect(await listedBytes(s3, bucket)).toEqual({ bytes: 3000, objects: 4 });
  for (const server of d.servers) expect(await quotaUse(server, bucket)).toEqual({ bytes: 3000, objects: 4 });
}

/** CopyObject and CompleteMultipartUpload count; parts of an upload in progress do not. */
export async function copiesAndMultipart(d: QuotaDeployment, bucket: string): Promise<void> {
  const s3 = d.client(0);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await setLimits(d.servers[0]!, bucket, { maxBytes: 3000 });
  expect(await put(s3, bucket, 'src', 1000)).toEqual({ status: 200 });
  const copy = (i: number, key: string) => outcome(d.client(i).send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/src` })));
  expect(await copy(1, 'c1')).toEqual({ status: 200 });
  expect(await copy(2, 'c2')).toEqual({ status: 200 });
  expect(await copy(3, 'c3')).toMatchObject(REFUSED);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c1' }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c2' }));

  const upload = async (i: number, key: string, size: number) => {
    const c = d.client(i);
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const { ETag } = await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(size, 7) }));
    return { UploadId: UploadId!, complete: (j: number) => outcome(d.client(j).send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }))) };
  };
  const first = await upload(4, 'm1', 1500);
  const second = await upload(5, 'm2', 1000);
  // Parts in progress hold no quota.
  expect(await quotaUse(d.servers[0]!, bucket)).toEqual({ bytes: 1000, objects: 1 });
  expect(await first.complete(6)).toEqual({ status: 200 });
  expect(await second.complete(7)).toMatchObject(REFUSED);
  // The refused completion left the upload as it was: it can still be listed and aborted.
  expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'm2', UploadId: second.UploadId }))).Parts?.length).toBe(1);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'm2', UploadId: second.UploadId }));
  expect(await listedBytes(s3, bucket)).toEqual({ bytes: 2500, objects: 2 });
  for (const server of d.servers) expect(await quotaUse(server, bucket)).toEqual({ bytes: 2500, objects: 2 });
}

/** With versioning every version counts; delete markers hold nothing; deleting a version frees room. */
export async function versionsCount(d: QuotaDeployment, bucket: string): Promise<void> {
  const s3 = d.client(0);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await setLimits(d.servers[0]!, bucket, { maxBytes: 3000, maxObjects: 10 });
  const versions: string[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await d.client(i).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: Buffer.alloc(1000, i) }));
    versions.push(out.VersionId!);
  }
  expect(await quotaUse(d.servers[0]!, bucket)).toEqual({ bytes: 3000, objects: 3 });
  expect(await put(d.client(3), bucket, 'k', 1)).toMatchObject(REFUSED);
  // A delete marker is always possible and frees nothing.
  const marker = await d.client(4).send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  expect(marker.DeleteMarker).toBe(true);
  expect(await put(d.client(5), bucket, 'other', 1)).toMatchObject(REFUSED);
  // Removing one version (through another process) frees its bytes at once.
  await d.client(6).send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: versions[0] }));
  expect(await quotaUse(d.servers[d.servers.length - 1]!, bucket)).toEqual({ bytes: 2000, objects: 2 });
  expect(await put(d.client(7), bucket, 'other', 1000)).toEqual({ status: 200 });
  expect(await put(d.client(8), bucket, 'more', 1)).toMatchObject(REFUSED);
  // With the bucket over a lowered quota, deleting versions still works, also when it makes the
  // version below current again; and so does a metadata change.
  await setLimits(d.servers[0]!, bucket, { maxBytes: 500 });
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: marker.VersionId }));
  expect(await quotaUse(d.servers[0]!, bucket)).toEqual({ bytes: 3000, objects: 3 });
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: versions[2] }));
  expect(await quotaUse(d.servers[0]!, bucket)).toEqual({ bytes: 2000, objects: 2 });
  const current = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  expect(current.VersionId).toBe(versions[1]);
  await current.Body!.transformToByteArray();
  expect(await outcome(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [{ Key: 't', Value: 'v' }] } })))).toEqual({ status: 200 });
  expect(await put(s3, bucket, 'more', 1)).toMatchObject(REFUSED);
}

/** Metrics and `offload stats` show the quota use the store counts, the same through every process. */
export async function useIsReported(d: QuotaDeployment, bucket: string, expected: { bytes: number; objects: number; maxBytes: number }): Promise<void> {
  for (const server of d.servers) {
    const res = await admin(server, 'GET', '/_offload/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toContain(`offload_bucket_quota_used_bytes{bucket="${bucket}"} ${expected.bytes}\n`);
    expect(res.body).toContain(`offload_bucket_quota_used_objects{bucket="${bucket}"} ${expected.objects}\n`);
    const env = { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region };
    const stats = spawnSync(process.execPath, [CLI, 'stats', `s3://${bucket}`], { encoding: 'utf8', env });
    expect(stats.stderr).toBe('');
    expect(stats.stdout).toContain(`quota use: ${expected.bytes} of ${expected.maxBytes} bytes, ${expected.objects}`);
    const json = spawnSync(process.execPath, [CLI, 'stats', `s3://${bucket}`, '--json'], { encoding: 'utf8', env });
    expect((JSON.parse(json.stdout) as { quotaUse?: unknown }).quotaUse).toEqual({ bytes: expected.bytes, objects: expected.objects });
  }
}
