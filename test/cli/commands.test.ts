/** cp, rm, ls, presign, public, cors, rb against s3rver and the real `offload serve`. */
import { GetBucketCorsCommand, GetBucketPolicyCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, client, IMPLEMENTATIONS, objectUrl, runCli, tempDir, type S3Impl } from './harness.js';
import { missingPeer } from '../helpers/require-peer.js';

describe.skipIf(missingPeer('the built CLI (npm run build)', builtCliExists())).each(IMPLEMENTATIONS)('offload bucket commands against $name', ({ start }) => {
  let impl: S3Impl;
  let s3: S3Client;
  let work: string;
  const bucket = 'cmds';
  const cli = (args: string[]) => runCli(impl, args, { cacheDir: join(work, 'cache'), cwd: work });
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();

  beforeAll(async () => {
    impl = await start();
    s3 = client(impl);
    work = tempDir('cmds');
    mkdirSync(join(work, 'dir/sub'), { recursive: true });
    writeFileSync(join(work, 'hello world.txt'), 'hello');
    writeFileSync(join(work, 'dir/a.css'), 'a{}');
    writeFileSync(join(work, 'dir/sub/b#1.json'), '{}');
    expect((await cli(['mb', `s3://${bucket}`])).code).toBe(0);
  });
  afterAll(async () => {
    s3?.destroy();
    await impl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('cp copies a file up, down and across, and a folder with --recursive', async () => {
    let res = await cli(['cp', 'hello world.txt', `s3://${bucket}/docs/`]);
    expect(res.code, res.stderr).toBe(0);
    res = await cli(['cp', `s3://${bucket}/docs/hello world.txt`, join(work, 'back.txt')]);
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(join(work, 'back.txt'), 'utf8')).toBe('hello');
    res = await cli(['cp', `s3://${bucket}/docs/hello world.txt`, `s3://${bucket}/copy.txt`]);
    expect(res.code, res.stderr).toBe(0);
    res = await cli(['cp', 'dir', `s3://${bucket}/tree`, '--recursive']);
    expect(res.code, res.stderr).toBe(0);
    expect(await keys()).toEqual(['copy.txt', 'docs/hello world.txt', 'tree/a.css', 'tree/sub/b#1.json']);
    const css = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tree/a.css' }));
    expect(css.ContentType).toBe('text/css; charset=utf-8');
    await css.Body?.transformToString();
    res = await cli(['cp', 'dir', `s3://${bucket}/x`]);
    expect(res.code).toBe(2);
  });

  it('ls lists levels and recursively', async () => {
    const top = await cli(['ls', `s3://${bucket}`]);
    expect(top.stdout.split('\n').filter(Boolean).sort()).toEqual(['copy.txt', 'docs/', 'tree/']);
    const all = await cli(['ls', `s3://${bucket}`, '--recursive', '--json']);
    expect(all.json.map((l) => l.key).sort()).toEqual(await keys());
    const buckets = await cli(['ls']);
    expect(buckets.stdout.split('\n')).toContain(bucket);
  });

  it('presign gives a URL that works without credentials', async () => {
    const res = await cli(['presign', `s3://${bucket}/docs/hello world.txt`, '--expires', '5m']);
    expect(res.code, res.stderr).toBe(0);
    const got = await fetch(res.stdout.trim());
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('hello');
    expect((await cli(['presign', `s3://${bucket}/x`, '--expires', '30d'])).code).toBe(2);
  });

  it('public applies the public-read policy', async () => {
    if (!impl.enforcesAccess) return; // s3rver has no bucket policies
    const res = await cli(['public', `s3://${bucket}`]);
    expect(res.code, res.stderr).toBe(0);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy!) as { Statement: unknown[] };
    expect(policy.Statement).toContainEqual({ Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });
    const anon = await fetch(objectUrl(impl, bucket, 'tree/sub/b#1.json'));
    expect(anon.status).toBe(200);
    await anon.text();
  });

  it('cors sets a GET/HEAD rule for the origin', async () => {
    const res = await cli(['cors', `s3://${bucket}`, '--origin', 'https://www.example.com']);
    expect(res.code, res.stderr).toBe(0);
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    const rule = cors.CORSRules?.[0];
    expect(rule?.AllowedOrigins).toEqual(['https://www.example.com']);
    expect([...(rule?.AllowedMethods ?? [])].sort()).toEqual(['GET', 'HEAD']);
    expect(rule?.AllowedHeaders).toEqual(['*']);
    expect(rule?.ExposeHeaders).toContain('ETag');
    expect(rule?.MaxAgeSeconds).toBe(3000);
    expect((await cli(['cors', `s3://${bucket}`])).code).toBe(2);
  });

  it('rm deletes one key or a prefix; rb --force removes the bucket', async () => {
    let res = await cli(['rm', `s3://${bucket}/copy.txt`]);
    expect(res.code, res.stderr).toBe(0);
    res = await cli(['rm', `s3://${bucket}/tree/`, '--recursive']);
    expect(res.code, res.stderr).toBe(0);
    expect(await keys()).toEqual(['docs/hello world.txt']);
    res = await cli(['rb', `s3://${bucket}`]);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n'), res.stderr).toHaveLength(1);
    res = await cli(['rb', `s3://${bucket}`, '--force']);
    expect(res.code, res.stderr).toBe(0);
    expect((await cli(['ls'])).stdout.split('\n')).not.toContain(bucket);
  });
});
