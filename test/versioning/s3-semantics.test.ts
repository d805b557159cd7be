/**
 * S3's versioning answers, exactly: states, MFA Delete refused, version ids on writes and reads,
 * the Suspended null version, 404/405 for delete markers, NoSuchVersion, CopyObject of an old
 * version, ACL and tags per version, ListObjectVersions paging with a delimiter, and the hot
 * paths never serving a non-current version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetBucketVersioningCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand,
  ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectAclCommand, PutObjectCommand, PutObjectTaggingCommand, type S3Client, type S3ServiceException,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    const e = err as S3ServiceException;
    return { status: e.$metadata.httpStatusCode, code: e.name, marker: (e.$response?.headers ?? {})['x-amz-delete-marker'] };
  }
  return 'succeeded';
};

describe('versioning semantics', () => {
  let server: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startServer();
    s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'sem' }));
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });
  const body = async (key: string, versionId?: string) => (await s3.send(new GetObjectCommand({ Bucket: 'sem', Key: key, VersionId: versionId }))).Body!.transformToString();

  it('states, MFA Delete refused, no version id before versioning', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'sem' }))).Status).toBeUndefined();
    const plain = await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 'p', Body: 'plain' }));
    expect(plain.VersionId).toBeUndefined();
    expect(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: 'sem', VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })))).toMatchObject({ status: 501, code: 'NotImplemented' });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'sem' }))).Status).toBeUndefined();
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sem', Key: 'p', VersionId: 'nope' })))).toMatchObject({ status: 404, code: 'NoSuchVersion' });
    expect(await body('p', 'null')).toBe('plain');
  });

  it('Enabled: versions, markers (404 latest, 405 by id), restore by deleting the marker, copy of an old version', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'sem', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 'k', Body: 'two' }))).VersionId!;
    expect(v2 > v1).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'sem', Key: 'k' }))).VersionId).toBe(v2);
    // A public-GET-style repeat must not see the old version: the hot path is keyed by the store's generation.
    expect(await body('k')).toBe('two');
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'sem', Key: 'k' }));
    expect(marker.DeleteMarker).toBe(true);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sem', Key: 'k' })))).toEqual({ status: 404, code: 'NoSuchKey', marker: 'true' });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: 'sem', Key: 'k', VersionId: marker.VersionId })))).toMatchObject({ status: 405 });
    expect(await body('k', v1)).toBe('one');
    const copied = await s3.send(new CopyObjectCommand({ Bucket: 'sem', Key: 'k', CopySource: `sem/k?versionId=${v1}` }));
    expect(copied.CopySourceVersionId).toBe(v1);
    expect(copied.VersionId).not.toBe(v1);
    expect(await body('k')).toBe('one');
    await s3.send(new DeleteObjectCommand({ Bucket: 'sem', Key: 'k', VersionId: copied.VersionId }));
    // Removing the newest version leaves the marker latest again; removing the marker restores v2.
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'sem', Key: 'k' })))).toMatchObject({ status: 404, marker: 'true' });
    const gone = await s3.send(new DeleteObjectCommand({ Bucket: 'sem', Key: 'k', VersionId: marker.VersionId }));
    expect(gone.DeleteMarker).toBe(true);
    expect(await body('k')).toBe('two');
  });

  it('tags and ACLs per version; Suspended replaces the null version', async () => {
    const old = (await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 't', Body: 'old' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 't', Body: 'new' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'sem', Key: 't', VersionId: old, Tagging: { TagSet: [{ Key: 'era', Value: 'old' }] } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'sem', Key: 't', VersionId: old }))).TagSet).toEqual([{ Key: 'era', Value: 'old' }]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'sem', Key: 't' }))).TagSet).toEqual([]);
    await s3.send(new PutObjectAclCommand({ Bucket: 'sem', Key: 't', VersionId: old, ACL: 'public-read' }));
    expect((await fetch(`${server.endpoint}/sem/t?versionId=${old}`)).status).toBe(200);
    expect((await fetch(`${server.endpoint}/sem/t`)).status).toBe(403);

    await s3.send(new PutBucketVersioningCommand({ Bucket: 'sem', VersioningConfiguration: { Status: 'Suspended' } }));
    const s1 = await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 's', Body: 's1' }));
    expect(s1.VersionId).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: 's', Body: 's2' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'sem', Prefix: 's' }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual(['null']);
    expect(await body('s', 'null')).toBe('s2');
  });

  it('ListObjectVersions pages by key and version id, with a delimiter', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'sem', VersioningConfiguration: { Status: 'Enabled' } }));
    for (const key of ['dir/a', 'dir/b', 'z1', 'z1', 'z1', 'z2']) await s3.send(new PutObjectCommand({ Bucket: 'sem', Key: key, Body: key }));
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'sem', Delimiter: '/', MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      seen.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!), ...(page.Versions ?? []).filter((v) => v.Key!.startsWith('z')).map((v) => `${v.Key}${v.IsLatest ? '*' : ''}`));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(seen).toEqual(['dir/', 'z1*', 'z1', 'z1', 'z2*']);
    expect(await failure(s3.send(new ListObjectVersionsCommand({ Bucket: 'sem', VersionIdMarker: 'x' })))).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });
});
