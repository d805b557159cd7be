/**
 * The ACL-to-action map, row by row, against AWS's table "Mapping of ACL permissions and access
 * policy permissions": real grants (x-amz-grant-* and AccessControlPolicy XML) to a second
 * access key, checked with the SDK on every action the row names and the ones it must not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetBucketAclCommand, GetBucketPolicyCommand,
  GetObjectAclCommand, GetObjectCommand, GetObjectTaggingCommand, HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand,
  ListObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, ListPartsCommand, PutBucketAclCommand, PutBucketPolicyCommand,
  PutObjectAclCommand, PutObjectCommand, PutObjectTaggingCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let root: S3Client;
let alt: S3Client;
let altId: string;
let rootId: string;

beforeAll(async () => {
  server = await startServer();
  root = sdkClient(server);
  const out = execFileSync(process.execPath, [CLI, 'keys', 'create', 'acl-alt', '--access-key', 'OFFLOADACLALTKEY0001', '--secret-key', 'acl-alt-secret-0123456789', '--data', server.dataDir]).toString();
  altId = /Owner id:\s+(\S+)/.exec(out)![1]!;
  alt = sdkClient(server, { credentials: { accessKeyId: 'OFFLOADACLALTKEY0001', secretAccessKey: 'acl-alt-secret-0123456789' } });
  await root.send(new CreateBucketCommand({ Bucket: 'acl-probe' }));
  rootId = (await root.send(new GetBucketAclCommand({ Bucket: 'acl-probe' }))).Owner!.ID!;
});
afterAll(async () => {
  root?.destroy();
  alt?.destroy();
  await server?.stop();
});

/** true when the call succeeds, false when it is AccessDenied; any other outcome fails the test. */
async function allowed(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    // HEAD answers carry no body: the SDK names those 403s Forbidden or Unknown.
    if (e.$metadata?.httpStatusCode === 403 && ['AccessDenied', 'Forbidden', 'Unknown', 'UnknownError', '403'].includes(e.name ?? '')) return false;
    throw err;
  }
}

const grant = (permission: string, id: string) => ({
  AccessControlPolicy: {
    Owner: { ID: rootId },
    Grants: [
      { Grantee: { Type: 'CanonicalUser' as const, ID: rootId }, Permission: 'FULL_CONTROL' as const },
      { Grantee: { Type: 'CanonicalUser' as const, ID: id }, Permission: permission as 'READ' },
    ],
  },
});

/** A bucket owned by root with one object and one upload initiated by root, the grant applied. */
async function bucketWith(name: string, permission: string): Promise<{ uploadId: string }> {
  await root.send(new CreateBucketCommand({ Bucket: name }));
  await root.send(new PutObjectCommand({ Bucket: name, Key: 'obj.txt', Body: 'data' }));
  const uploadId = (await root.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'up.bin' }))).UploadId!;
  await root.send(new PutBucketAclCommand({ Bucket: name, ...grant(permission, altId) }));
  return { uploadId };
}

async function bucketActions(name: string, uploadId: string) {
  const Bucket = name;
  return {
    ListBucket: await allowed(alt.send(new ListObjectsV2Command({ Bucket }))),
    ListBucketV1: await allowed(alt.send(new ListObjectsCommand({ Bucket }))),
    HeadBucket: await allowed(alt.send(new HeadBucketCommand({ Bucket }))),
    ListBucketVersions: await allowed(alt.send(new ListObjectVersionsCommand({ Bucket }))),
    ListBucketMultipartUploads: await allowed(alt.send(new ListMultipartUploadsCommand({ Bucket }))),
    ListPartsOfRootsUpload: await allowed(alt.send(new ListPartsCommand({ Bucket, Key: 'up.bin', UploadId: uploadId }))),
    GetBucketAcl: await allowed(alt.send(new GetBucketAclCommand({ Bucket }))),
    PutObject: await allowed(alt.send(new PutObjectCommand({ Bucket, Key: 'alt.txt', Body: 'alt' }))),
    DeleteObject: await allowed(alt.send(new DeleteObjectCommand({ Bucket, Key: 'gone.txt' }))),
    AbortRootsUpload: await allowed(alt.send(new AbortMultipartUploadCommand({ Bucket, Key: 'up.bin', UploadId: uploadId }))),
    GetBucketPolicy: await allowed(alt.send(new GetBucketPolicyCommand({ Bucket })).catch((e: { name?: string }) => {
      if (e.name === 'NoSuchBucketPolicy') return;
      throw e;
    })),
    // Last: a WRITE_ACP grantee that may change the ACL must not lose its own grant before the other checks.
    PutBucketAcl: await allowed(alt.send(new PutBucketAclCommand({ Bucket, ...grant('FULL_CONTROL', altId) }))),
  };
}

const NONE = {
  ListBucket: false, ListBucketV1: false, HeadBucket: false, ListBucketVersions: false, ListBucketMultipartUploads: false, ListPartsOfRootsUpload: false,
  GetBucketAcl: false, PutObject: false, DeleteObject: false, AbortRootsUpload: false, GetBucketPolicy: false, PutBucketAcl: false,
};

describe('bucket ACL permissions', () => {
  it('READ = s3:ListBucket, s3:ListBucketVersions, s3:ListBucketMultipartUploads (not ListParts)', async () => {
    const { uploadId } = await bucketWith('grant-read', 'READ');
    expect(await bucketActions('grant-read', uploadId)).toEqual({ ...NONE, ListBucket: true, ListBucketV1: true, HeadBucket: true, ListBucketVersions: true, ListBucketMultipartUploads: true });
  });

  it('WRITE = s3:PutObject, s3:DeleteObject (not ListParts or AbortMultipartUpload of another initiator)', async () => {
    const { uploadId } = await bucketWith('grant-write', 'WRITE');
    expect(await bucketActions('grant-write', uploadId)).toEqual({ ...NONE, PutObject: true, DeleteObject: true });
  });

  it('READ_ACP = s3:GetBucketAcl', async () => {
    const { uploadId } = await bucketWith('grant-read-acp', 'READ_ACP');
    expect(await bucketActions('grant-read-acp', uploadId)).toEqual({ ...NONE, GetBucketAcl: true });
  });

  it('WRITE_ACP = s3:PutBucketAcl', async () => {
    const { uploadId } = await bucketWith('grant-write-acp', 'WRITE_ACP');
    expect(await bucketActions('grant-write-acp', uploadId)).toEqual({ ...NONE, PutBucketAcl: true });
  });

  it('FULL_CONTROL = all of the above, still not another initiator\'s parts nor the owner-only policy', async () => {
    const { uploadId } = await bucketWith('grant-full', 'FULL_CONTROL');
    expect(await bucketActions('grant-full', uploadId)).toEqual({
      ...NONE, ListBucket: true, ListBucketV1: true, HeadBucket: true, ListBucketVersions: true, ListBucketMultipartUploads: true, GetBucketAcl: true, PutObject: true, DeleteObject: true, PutBucketAcl: true,
    });
  });

  it('grant headers (x-amz-grant-read) give the same as the XML grant', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'grant-header', GrantRead: `id="${altId}"` }));
    const uploadId = (await root.send(new CreateMultipartUploadCommand({ Bucket: 'grant-header', Key: 'up.bin' }))).UploadId!;
    expect(await bucketActions('grant-header', uploadId)).toEqual({ ...NONE, ListBucket: true, ListBucketV1: true, HeadBucket: true, ListBucketVersions: true, ListBucketMultipartUploads: true });
  });
});

describe('multipart uploads: the initiator and policies', () => {
  it('the initiator (WRITE grantee) may list and abort its own upload', async () => {
    await bucketWith('initiator', 'WRITE');
    const own = (await alt.send(new CreateMultipartUploadCommand({ Bucket: 'initiator', Key: 'mine.bin' }))).UploadId!;
    await alt.send(new UploadPartCommand({ Bucket: 'initiator', Key: 'mine.bin', UploadId: own, PartNumber: 1, Body: 'part' }));
    const parts = await alt.send(new ListPartsCommand({ Bucket: 'initiator', Key: 'mine.bin', UploadId: own }));
    expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1]);
    expect(await allowed(alt.send(new AbortMultipartUploadCommand({ Bucket: 'initiator', Key: 'mine.bin', UploadId: own })))).toBe(true);
  });

  it('the bucket owner may list and abort any upload in its bucket', async () => {
    const { uploadId } = await bucketWith('owner-sees', 'WRITE');
    const own = (await alt.send(new CreateMultipartUploadCommand({ Bucket: 'owner-sees', Key: 'alts.bin' }))).UploadId!;
    expect((await root.send(new ListPartsCommand({ Bucket: 'owner-sees', Key: 'alts.bin', UploadId: own }))).UploadId).toBe(own);
    await root.send(new AbortMultipartUploadCommand({ Bucket: 'owner-sees', Key: 'up.bin', UploadId: uploadId }));
  });

  it('a bucket policy granting s3:ListMultipartUploadParts and s3:AbortMultipartUpload lets another key do them', async () => {
    const { uploadId } = await bucketWith('by-policy', 'READ');
    await root.send(new PutBucketPolicyCommand({
      Bucket: 'by-policy',
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: [altId] }, Action: ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], Resource: 'arn:aws:s3:::by-policy/*' }] }),
    }));
    expect(await allowed(alt.send(new ListPartsCommand({ Bucket: 'by-policy', Key: 'up.bin', UploadId: uploadId })))).toBe(true);
    expect(await allowed(alt.send(new AbortMultipartUploadCommand({ Bucket: 'by-policy', Key: 'up.bin', UploadId: uploadId })))).toBe(true);
  });

  it('anonymous ListParts and AbortMultipartUpload on a root upload in a public-read bucket are 403; ListMultipartUploads is allowed', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'public-uploads', ACL: 'public-read' }));
    const uploadId = (await root.send(new CreateMultipartUploadCommand({ Bucket: 'public-uploads', Key: 'up.bin' }))).UploadId!;
    const base = `${server.endpoint}/public-uploads`;
    expect((await fetch(`${base}/up.bin?uploadId=${uploadId}`)).status).toBe(403);
    expect((await fetch(`${base}/up.bin?uploadId=${uploadId}`, { method: 'DELETE' })).status).toBe(403);
    expect((await fetch(`${base}?uploads`)).status).toBe(200);
    // A guessed upload id answers the same: existence does not leak.
    expect((await fetch(`${base}/up.bin?uploadId=nope`)).status).toBe(403);
    expect((await root.send(new ListPartsCommand({ Bucket: 'public-uploads', Key: 'up.bin', UploadId: uploadId }))).UploadId).toBe(uploadId);
  });
});

describe('object ACL permissions', () => {
  async function objectWith(key: string, permission: string): Promise<void> {
    await root.send(new PutObjectCommand({ Bucket: 'acl-probe', Key: key, Body: 'object' }));
    await root.send(new PutObjectAclCommand({ Bucket: 'acl-probe', Key: key, ...grant(permission, altId) }));
  }

  async function objectActions(Key: string) {
    const Bucket = 'acl-probe';
    return {
      GetObject: await allowed(alt.send(new GetObjectCommand({ Bucket, Key })).then((r) => r.Body!.transformToString())),
      HeadObject: await allowed(alt.send(new HeadObjectCommand({ Bucket, Key }))),
      GetObjectAcl: await allowed(alt.send(new GetObjectAclCommand({ Bucket, Key }))),
      GetObjectTagging: await allowed(alt.send(new GetObjectTaggingCommand({ Bucket, Key }))),
      PutObjectTagging: await allowed(alt.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }))),
      PutObjectAcl: await allowed(alt.send(new PutObjectAclCommand({ Bucket, Key, ...grant('FULL_CONTROL', altId) }))),
    };
  }

  const NO_OBJECT = { GetObject: false, HeadObject: false, GetObjectAcl: false, GetObjectTagging: false, PutObjectTagging: false, PutObjectAcl: false };

  it('READ = s3:GetObject (and HEAD)', async () => {
    await objectWith('read.txt', 'READ');
    expect(await objectActions('read.txt')).toEqual({ ...NO_OBJECT, GetObject: true, HeadObject: true });
  });

  it('READ_ACP = s3:GetObjectAcl', async () => {
    await objectWith('read-acp.txt', 'READ_ACP');
    expect(await objectActions('read-acp.txt')).toEqual({ ...NO_OBJECT, GetObjectAcl: true });
  });

  it('WRITE_ACP = s3:PutObjectAcl', async () => {
    await objectWith('write-acp.txt', 'WRITE_ACP');
    expect(await objectActions('write-acp.txt')).toEqual({ ...NO_OBJECT, PutObjectAcl: true });
  });

  it('FULL_CONTROL = READ + READ_ACP + WRITE_ACP; tagging is never granted by an ACL', async () => {
    await objectWith('full.txt', 'FULL_CONTROL');
    expect(await objectActions('full.txt')).toEqual({ ...NO_OBJECT, GetObject: true, HeadObject: true, GetObjectAcl: true, PutObjectAcl: true });
  });

  it('the object owner has tagging on its own object', async () => {
    await root.send(new PutBucketAclCommand({ Bucket: 'acl-probe', ...grant('WRITE', altId) }));
    await alt.send(new PutObjectCommand({ Bucket: 'acl-probe', Key: 'alts-own.txt', Body: 'mine' }));
    await alt.send(new PutObjectTaggingCommand({ Bucket: 'acl-probe', Key: 'alts-own.txt', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
    expect((await alt.send(new GetObjectTaggingCommand({ Bucket: 'acl-probe', Key: 'alts-own.txt' }))).TagSet).toEqual([{ Key: 'k', Value: 'v' }]);
  });
});
