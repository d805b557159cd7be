/** PostObject: browser form uploads, with the SDK's createPresignedPost and hand-made SigV2 forms. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, createHash, randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'post-media';

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: 'post-open', ACL: 'public-read-write' }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

type Fields = [string, string][] | Record<string, string>;

/** Posts a form: the fields in order, then the file, then any fields after it. */
async function postForm(url: string, fields: Fields, file: { data: string | Buffer; filename?: string }, after: Fields = []): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Array.isArray(fields) ? fields : Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file.data]), file.filename ?? 'blob.bin');
  for (const [k, v] of Array.isArray(after) ? after : Object.entries(after)) form.append(k, v);
  return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
}

async function presigned(opts: Omit<PresignedPostOptions, 'Bucket'> & { Bucket?: string }) {
  // The presigner brings its own copy of the client package: the config it reads is the same.
  return createPresignedPost(s3 as never, { Bucket: bucket, ...opts });
}

async function errorCode(res: Response): Promise<{ code: string | undefined; message: string | undefined }> {
  const xml = (await res.text()).replaceAll('&quot;', '"');
  return { code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] };
}

async function getText(b: string, key: string) {
  const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
  return { body: await got.Body!.transformToString(), got };
}

/** A SigV2 form policy, signed the way the ceph s3-tests and old browser forms do it. */
function v2Form(conditions: unknown[], fields: [string, string][], expiresInMs = 600_000): [string, string][] {
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + expiresInMs).toISOString(), conditions })).toString('base64');
  const signature = createHmac('sha1', server.secretAccessKey).update(policy).digest('base64');
  return [...fields, ['AWSAccessKeyId', server.accessKeyId], ['policy', policy], ['signature', signature]];
}

describe('createPresignedPost (SigV4)', () => {
  it('uploads with headers and metadata and answers 204', async () => {
    const data = randomBytes(50_000);
    const post = await presigned({ Key: 'img/a.bin', Fields: { 'Content-Type': 'image/png', 'x-amz-meta-origin': 'form', 'Cache-Control': 'max-age=60' } });
    const res = await postForm(post.url, post.fields, { data });
    expect(res.status).toBe(204);
    expect(res.headers.get('etag')).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'img/a.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got.ContentType).toBe('image/png');
    expect(got.CacheControl).toBe('max-age=60');
    expect(got.Metadata).toEqual({ origin: 'form' });
  });

  it('answers 201 with a PostResponse, and 200 when asked', async () => {
    const post = await presigned({ Key: 'created.txt', Fields: { success_action_status: '201' } });
    const res = await postForm(post.url, post.fields, { data: 'hello' });
    expect(res.status).toBe(201);
    const xml = (await res.text()).replaceAll('&quot;', '"');
    expect(xml).toContain('<PostResponse>');
    expect(xml).toContain(`<Bucket>${bucket}</Bucket>`);
    expect(xml).toContain('<Key>created.txt</Key>');
    expect(xml).toContain(`<Location>http://127.0.0.1:${server.port}/${bucket}/created.txt</Location>`);
    expect(xml).toContain(`<ETag>"${createHash('md5').update('hello').digest('hex')}"</ETag>`);
    const ok = await presigned({ Key: 'ok.txt', Fields: { success_action_status: '200' } });
    expect((await postForm(ok.url, ok.fields, { data: 'x' })).status).toBe(200);
    const other = await presigned({ Key: 'other.txt', Fields: { success_action_status: '404' } });
    expect((await postForm(other.url, other.fields, { data: 'x' })).status).toBe(204);
  });

  it('redirects with 303 to success_action_redirect with bucket, key and etag', async () => {
    const post = await presigned({ Key: 'go/there.txt', Fields: { success_action_redirect: 'https://example.test/done?from=form' } });
    const res = await postForm(post.url, post.fields, { data: 'redirected' });
    expect(res.status).toBe(303);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'go/there.txt' }));
    const etag = head.ETag!.replace(/"/g, '');
    expect(res.headers.get('location')).toBe(`https://example.test/done?from=form&bucket=${bucket}&key=go%2Fthere.txt&etag=%22${etag}%22`);
  });

  it('substitutes ${filename} into the key', async () => {
    const post = await presigned({ Key: 'uploads/${filename}' });
    const res = await postForm(post.url, post.fields, { data: 'photo bytes', filename: 'photo.jpg' });
    expect(res.status).toBe(204);
    expect((await getText(bucket, 'uploads/photo.jpg')).body).toBe('photo bytes');
  });

  it('enforces content-length-range', async () => {
    const small = await presigned({ Key: 'range.txt', Conditions: [['content-length-range', 0, 10]] });
    const tooLarge = await postForm(small.url, small.fields, { data: 'x'.repeat(20) });
    expect(tooLarge.status).toBe(400);
    expect((await errorCode(tooLarge)).code).toBe('EntityTooLarge');
    const big = await presigned({ Key: 'range.txt', Conditions: [['content-length-range', 100, 200]] });
    const tooSmall = await postForm(big.url, big.fields, { data: 'xyz' });
    expect(tooSmall.status).toBe(400);
    expect((await errorCode(tooSmall)).code).toBe('EntityTooSmall');
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'range.txt' }))).rejects.toThrow();
    expect((await postForm(big.url, big.fields, { data: 'y'.repeat(150) })).status).toBe(204);
  });

  it('refuses a tampered policy, an expired one, extra fields and failed conditions', async () => {
    const post = await presigned({ Key: 'guarded.txt' });
    const doc = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString()) as { conditions: unknown[] };
    doc.conditions = doc.conditions.map((c) => (JSON.stringify(c) === '{"key":"guarded.txt"}' ? ['starts-with', '$key', ''] : c));
    const tampered = await postForm(post.url, { ...post.fields, Policy: Buffer.from(JSON.stringify(doc)).toString('base64'), key: 'anything.txt' }, { data: 'x' });
    expect(tampered.status).toBe(403);
    expect((await errorCode(tampered)).code).toBe('SignatureDoesNotMatch');

    const old = await presigned({ Key: 'guarded.txt', Expires: -60 });
    const expired = await postForm(old.url, old.fields, { data: 'x' });
    expect(expired.status).toBe(403);
    expect(await errorCode(expired)).toEqual({ code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' });

    const extra = await postForm(post.url, { ...post.fields, 'x-amz-meta-sneaky': 'yes' }, { data: 'x' });
    expect(extra.status).toBe(403);
    expect((await errorCode(extra)).message).toBe('Invalid according to Policy: Extra input fields: x-amz-meta-sneaky');

    const otherKey = await postForm(post.url, { ...post.fields, key: 'elsewhere.txt' }, { data: 'x' });
    expect(otherKey.status).toBe(403);
    expect((await errorCode(otherKey)).message).toBe('Invalid according to Policy: Policy Condition failed: {"key":"guarded.txt"}');

    const ignored = await postForm(post.url, { ...post.fields, 'x-ignore-note': 'fine' }, { data: 'x' }, { 'x-amz-meta-late': 'after the file' });
    expect(ignored.status).toBe(204);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'guarded.txt' }))).Metadata).toEqual({});
  });

  it('refuses an unknown access key', async () => {
    const post = await presigned({ Key: 'k.txt' });
    const res = await postForm(post.url, { ...post.fields, 'X-Amz-Credential': post.fields['X-Amz-Credential']!.replace(server.accessKeyId, 'NOSUCHKEY') }, { data: 'x' });
    expect(res.status).toBe(403);
    expect((await errorCode(res)).code).toBe('InvalidAccessKeyId');
  });
});

describe('anonymous forms', () => {
  it('refuses a private bucket', async () => {
    const res = await postForm(`${server.endpoint}/${bucket}`, { key: 'anon.txt' }, { data: 'x' });
    expect(res.status).toBe(403);
    expect((await errorCode(res)).code).toBe('AccessDenied');
  });

  it('uploads to a public-read-write bucket, with ACL, type and tags', async () => {
    const tagging = '<Tagging><TagSet><Tag><Key>0</Key><Value>zero</Value></Tag><Tag><Key>1</Key><Value>one</Value></Tag></TagSet></Tagging>';
    const res = await postForm(`${server.endpoint}/post-open`, [['KEY', 'foo.txt'], ['acl', 'public-read'], ['Content-Type', 'text/plain'], ['tagging', tagging]], { data: 'bar' });
    expect(res.status).toBe(204);
    const { body, got } = await getText('post-open', 'foo.txt');
    expect(body).toBe('bar');
    expect(got.ContentType).toBe('text/plain');
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'post-open', Key: 'foo.txt' }));
    expect(tags.TagSet).toEqual([{ Key: '0', Value: 'zero' }, { Key: '1', Value: 'one' }]);
    expect((await fetch(`${server.endpoint}/post-open/foo.txt`)).status).toBe(200);
  });

  it('reads fields sent as file parts (as python-requests does) and streams a large file', async () => {
    const form = new FormData();
    form.append('key', new Blob(['big.bin']), 'key');
    form.append('Content-Type', new Blob(['application/x-big']), 'Content-Type');
    const data = randomBytes(6 * 1024 * 1024 + 123);
    form.append('file', new Blob([data]), 'file');
    const res = await fetch(`${server.endpoint}/post-open`, { method: 'POST', body: form });
    expect(res.status).toBe(204);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'post-open', Key: 'big.bin' }));
    expect(got.ContentType).toBe('application/x-big');
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
  });

  it('verifies a checksum field', async () => {
    const sha = createHash('sha256').update('checked').digest('base64');
    const good = await postForm(`${server.endpoint}/post-open`, { key: 'sum.txt', 'x-amz-checksum-sha256': sha }, { data: 'checked' });
    expect(good.status).toBe(204);
    expect(good.headers.get('x-amz-checksum-sha256')).toBe(sha);
    const bad = await postForm(`${server.endpoint}/post-open`, { key: 'sum2.txt', 'x-amz-checksum-sha256': sha }, { data: 'tampered' });
    expect(bad.status).toBe(400);
    expect((await errorCode(bad)).code).toBe('BadDigest');
  });

  it('needs a key, a file and a multipart body', async () => {
    const noKey = await postForm(`${server.endpoint}/post-open`, { acl: 'private' }, { data: 'x' });
    expect(noKey.status).toBe(400);
    expect((await errorCode(noKey)).code).toBe('InvalidArgument');
    const form = new FormData();
    form.append('key', 'nofile.txt');
    const noFile = await fetch(`${server.endpoint}/post-open`, { method: 'POST', body: form });
    expect(noFile.status).toBe(400);
    const notForm = await fetch(`${server.endpoint}/post-open`, { method: 'POST', body: 'key=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(notForm.status).toBe(412);
  });
});

describe('SigV2 forms', () => {
  const conditions = [{ bucket }, ['starts-with', '$key', 'v2/'], { acl: 'private' }, ['starts-with', '$Content-Type', 'text/'], ['content-length-range', 0, 1024]];

  it('uploads with a valid policy signature', async () => {
    const fields = v2Form(conditions, [['key', 'v2/${filename}'], ['acl', 'private'], ['Content-Type', 'text/plain']]);
    const res = await postForm(`${server.endpoint}/${bucket}`, fields, { data: 'v2 body', filename: 'doc.txt' });
    expect(res.status).toBe(204);
    expect((await getText(bucket, 'v2/doc.txt')).body).toBe('v2 body');
  });

  it('refuses bad signatures, unknown keys, a missing signature and a missing bucket condition', async () => {
    const fields = v2Form(conditions, [['key', 'v2/x.txt'], ['acl', 'private'], ['Content-Type', 'text/plain']]);
    const swap = (name: string, value: string | undefined) =>
      fields.flatMap(([k, v]): [string, string][] => (k === name ? (value === undefined ? [] : [[k, value]]) : [[k, v]]));
    const badSig = await postForm(`${server.endpoint}/${bucket}`, swap('signature', 'AAAA' + fields.at(-1)![1].slice(4)), { data: 'x' });
    expect(badSig.status).toBe(403);
    expect((await errorCode(badSig)).code).toBe('SignatureDoesNotMatch');
    const badKey = await postForm(`${server.endpoint}/${bucket}`, swap('AWSAccessKeyId', 'NOBODY'), { data: 'x' });
    expect(badKey.status).toBe(403);
    expect((await errorCode(badKey)).code).toBe('InvalidAccessKeyId');
    expect((await postForm(`${server.endpoint}/${bucket}`, swap('signature', undefined), { data: 'x' })).status).toBe(400);
    const noBucket = v2Form(conditions.slice(1), [['key', 'v2/x.txt'], ['acl', 'private'], ['Content-Type', 'text/plain']]);
    const res = await postForm(`${server.endpoint}/${bucket}`, noBucket, { data: 'x' });
    expect(res.status).toBe(403);
    expect((await errorCode(res)).message).toBe('Invalid according to Policy: Extra input fields: bucket');
  });

  it('rejects malformed policies with 400', async () => {
    const base: [string, string][] = [['key', 'v2/y.txt'], ['acl', 'private'], ['Content-Type', 'text/plain']];
    for (const conds of [[{}], [], [['content-length-range', -1, 10]], [['content-length-range', 0]]]) {
      const res = await postForm(`${server.endpoint}/${bucket}`, v2Form(conds, base), { data: 'x' });
      expect(res.status, JSON.stringify(conds)).toBe(400);
      expect((await errorCode(res)).code).toBe('InvalidPolicyDocument');
    }
  });
});
