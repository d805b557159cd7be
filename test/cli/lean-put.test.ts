/**
 * The lean upload path of the CLI (src/cli/s3/lean-put.ts) against the real server: what it
 * stores must be what the SDK would have stored, for awkward keys too, and anything it cannot do
 * cleanly it must hand back to the SDK (undefined) rather than fail or half-do.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { makeClient } from '../../src/cli/s3/client.js';
import { leanPutFor, type LeanPut } from '../../src/cli/s3/lean-put.js';

let server: TestServer;
let client: S3Client;
let lean: LeanPut;
const bucket = 'lean';

beforeAll(async () => {
  server = await startServer();
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  client = makeClient({ endpoint: server.endpoint, region: server.region });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  lean = (await leanPutFor(client, 4))!;
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

const md5Base64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

it('stores bytes, headers, metadata and ACL as the SDK would, under awkward keys', async () => {
  const keys = ['plain.txt', 'with space/and+plus.css', 'ünïcödé/日本.png', 'odd/(paren)*star!quote\'%25.js', 'deep//double/slash.txt', 'emoji/😀.svg'];
  for (const [i, key] of keys.entries()) {
    const body = Buffer.from(`body of ${key} #${i}`);
    const etag = await lean({ bucket, key, body, md5Base64: md5Base64(body), contentType: 'text/css', cacheControl: 'max-age=60', acl: 'public-read', metadata: { 'offload-md5': 'abc123' } });
    expect(etag, key).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body), key).toBe(true);
    expect(got.ContentType).toBe('text/css');
    expect(got.CacheControl).toBe('max-age=60');
    expect(got.Metadata).toEqual({ 'offload-md5': 'abc123' });
    const anonymous = await fetch(`${server.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
    expect(anonymous.status, key).toBe(200);
  }
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  expect(listed.Contents!.map((o) => o.Key).sort()).toEqual([...keys].sort());
});

it('hands back to the SDK what it should not do itself', async () => {
  const body = Buffer.from('x');
  // No such bucket: the SDK makes the error message.
  expect(await lean({ bucket: 'no-such-bucket', key: 'k', body, md5Base64: md5Base64(body), metadata: {} })).toBeUndefined();
  // A wrong Content-MD5 is refused by the server: nothing stored, the SDK retries and reports.
  expect(await lean({ bucket, key: 'bad-md5', body, md5Base64: md5Base64(Buffer.from('y')), metadata: {} })).toBeUndefined();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'bad-md5' }));
  expect(listed.KeyCount).toBe(0);
  // Metadata that is not plain ASCII is the SDK's to encode.
  expect(await lean({ bucket, key: 'meta', body, md5Base64: md5Base64(body), metadata: { note: 'café' } })).toBeUndefined();
});

it('is not used for AWS itself (no explicit endpoint)', async () => {
  const aws = makeClient({ region: 'us-east-1' });
  try {
    expect(await leanPutFor(aws, 4)).toBeUndefined();
  } finally {
    aws.destroy();
  }
});
