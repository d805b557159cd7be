/**
 * The SDK v3 presigner moves the x-amz-* headers it signs into the URL's query (x-amz-acl,
 * x-amz-meta-*, x-amz-tagging): S3 applies them as headers. They are signed there, so honouring
 * them is safe; changing one in the URL breaks the signature, and the same name sent as an
 * unsigned header is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { anonymousStatus, serverAlive } from './_sign.js';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'hoist' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const presignedPut = (key: string) =>
  getSignedUrl(s3, new PutObjectCommand({ Bucket: 'hoist', Key: key, ACL: 'public-read', Metadata: { owner: 'alice' }, Tagging: 'kind=logo' }), { expiresIn: 300 });

describe('a presigned PUT with hoisted headers', () => {
  it('stores the ACL, metadata and tags that were signed into the query', async () => {
    const url = await presignedPut('logo.txt');
    expect(url).toMatch(/x-amz-acl=public-read/);
    const put = await fetch(url, { method: 'PUT', body: 'logo' });
    expect(put.status).toBe(200);
    expect(await anonymousStatus(server, '/hoist/logo.txt')).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'hoist', Key: 'logo.txt' }));
    expect(head.Metadata).toEqual({ owner: 'alice' });
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'hoist', Key: 'logo.txt' }));
    expect(tags.TagSet).toEqual([{ Key: 'kind', Value: 'logo' }]);
  });

  it('refuses the URL when a hoisted value is changed', async () => {
    const url = (await presignedPut('bent.txt')).replace('x-amz-acl=public-read', 'x-amz-acl=public-read-write');
    const put = await fetch(url, { method: 'PUT', body: 'bent' });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await anonymousStatus(server, '/hoist/bent.txt')).toBe(403);
  });

  it('refuses an unsigned header of a hoisted name', async () => {
    const url = await presignedPut('twice.txt');
    const put = await fetch(url, { method: 'PUT', body: 'twice', headers: { 'x-amz-acl': 'private' } });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('<HeadersNotSigned>x-amz-acl</HeadersNotSigned>');
    expect(await serverAlive(server)).toBe(true);
  });

  it('takes no hoisted header from an unsigned query', async () => {
    const put = await fetch(`${server.endpoint}/hoist/anon.txt?x-amz-acl=public-read`, { method: 'PUT', body: 'anon' });
    expect(put.status).toBe(403);
    expect(await anonymousStatus(server, '/hoist/anon.txt')).toBe(403);
  });
});
