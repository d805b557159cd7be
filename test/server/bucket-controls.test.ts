/** Object Ownership and the Public Access Block: how AWS makes "public" deliberate, and what the CLI's --public hint relies on. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import {
  CreateBucketCommand, DeleteBucketOwnershipControlsCommand, DeletePublicAccessBlockCommand, GetBucketOwnershipControlsCommand,
  GetPublicAccessBlockCommand, PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutObjectCommand,
  PutPublicAccessBlockCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const publicPolicy = (bucket: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });

describe('object ownership', () => {
  it('BucketOwnerEnforced refuses ACLs but a public policy still works', async () => {
    const bucket = 'owner-enforced';
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'BucketOwnerEnforced' }));
    expect((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('BucketOwnerEnforced');
    const refused = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.css', Body: 'a{}', ACL: 'public-read' })));
    expect(refused.name).toBe('AccessControlListNotSupported');
    expect(refused.$metadata?.httpStatusCode).toBe(400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.css', Body: 'a{}', ACL: 'bucket-owner-full-control' }));
    expect((await fetch(`${server.endpoint}/${bucket}/a.css`)).status).toBe(403);
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) }));
    expect((await fetch(`${server.endpoint}/${bucket}/a.css`)).status).toBe(200);
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
    expect((await errorOf(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })))).name).toBe('OwnershipControlsNotFoundError');
  });

  it('cannot be enforced on a bucket with a public ACL', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'public-acl-bucket', ACL: 'public-read' }));
    const err = await errorOf(s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'public-acl-bucket', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })));
    expect(err.name).toBe('InvalidBucketAclWithObjectOwnership');
  });
});

describe('public access block', () => {
  it('blocks and ignores public ACLs and policies as configured', async () => {
    const bucket = 'blocked';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'open.png', Body: 'png', ACL: 'public-read' }));
    expect((await fetch(`${server.endpoint}/${bucket}/open.png`)).status).toBe(200);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    const stored = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    expect(stored.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    expect((await fetch(`${server.endpoint}/${bucket}/open.png`)).status).toBe(403);
    expect((await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b.png', Body: 'png', ACL: 'public-read' })))).name).toBe('AccessDenied');
    expect((await errorOf(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })))).name).toBe('AccessDenied');
    expect((await errorOf(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) })))).name).toBe('AccessDenied');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    expect((await errorOf(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))).name).toBe('NoSuchPublicAccessBlockConfiguration');
    expect((await fetch(`${server.endpoint}/${bucket}/open.png`)).status).toBe(200);
  });

  it('RestrictPublicBuckets ignores a public policy that was already there', async () => {
    const bucket = 'restricted';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x.css', Body: 'x{}' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) }));
    expect((await fetch(`${server.endpoint}/${bucket}/x.css`)).status).toBe(200);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    expect((await fetch(`${server.endpoint}/${bucket}/x.css`)).status).toBe(403);
  });
});
