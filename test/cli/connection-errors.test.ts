/**
 * Messages for the settings people get wrong, against the real `offload serve`: no endpoint or
 * region, a bucket that does not exist (named), an invalid bucket name, an endpoint with a path.
 * Each is one line naming what to fix; usage mistakes exit 2, a missing bucket exits 1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, runCli, startOffload, tempDir, type S3Impl } from './harness.js';

const NO_AWS_CONFIG = { AWS_CONFIG_FILE: '/nonexistent/offload-test-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/offload-test-credentials' };

describe.skipIf(!builtCliExists())('connection and bucket errors', () => {
  let impl: S3Impl;
  let src: string;
  const lines = (s: string) => s.trim().split('\n');

  beforeAll(async () => {
    impl = await startOffload();
    src = tempDir('errors');
    writeFileSync(join(src, 'a.txt'), 'a');
    expect((await runCli(impl, ['mb', 's3://present'])).code).toBe(0);
  });
  afterAll(async () => {
    await impl?.stop();
  });

  it.each([[['ls', 's3://media']], [['put', 's3://media', 'a.txt']], [['sync', '.', 's3://media']]])('%j with no endpoint and no region says which setting is missing, once', async (args) => {
    const res = await runCli(undefined, args, { cwd: src, env: { ...NO_AWS_CONFIG, AWS_REGION: '' } });
    expect(res.code).toBe(2);
    expect(lines(res.stderr)).toEqual([
      'offload: no endpoint or region: give --endpoint URL (or set AWS_ENDPOINT_URL) for offload serve, R2, MinIO and other S3-compatible services, or --region (AWS_REGION, or a profile with a region) for AWS S3',
    ]);
  });

  it.each([
    ['sync', (s: string) => ['sync', s, 's3://absent-bucket']],
    ['ls', () => ['ls', 's3://absent-bucket/some/prefix/']],
    ['put', () => ['put', 's3://absent-bucket', 'a.txt']],
  ])('%s to a missing bucket names it', async (_name, args) => {
    const res = await runCli(impl, args(src), { cwd: src });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain('the bucket absent-bucket does not exist (create it with `offload mb s3://absent-bucket`)');
  });

  it.each(['s3://Media_Bad', 's3://ab', 's3://-media', 's3://media..x', 's3://192.168.0.1'])('%s is refused as an invalid bucket name', async (url) => {
    const bucket = url.slice(5);
    for (const args of [['ls', url], ['sync', src, url]]) {
      const res = await runCli(impl, args);
      expect(res.code, res.stderr).toBe(2);
      expect(lines(res.stderr)).toHaveLength(1);
      expect(res.stderr).toContain(`offload: invalid bucket name "${bucket}": `);
    }
  });

  it('refuses an endpoint with a path in one line', async () => {
    for (const endpoint of [`${impl.endpoint}/media`, `${impl.endpoint}/media/`]) {
      const res = await runCli(impl, ['ls', 's3://present', '--endpoint', endpoint]);
      expect(res.code, res.stderr).toBe(2);
      expect(lines(res.stderr)).toEqual([`offload: --endpoint must be the service's root URL without a path (${impl.endpoint}), got ${endpoint}; name the bucket in the s3:// URL instead`]);
    }
    // A trailing slash alone is fine, and the server is still there.
    const ok = await runCli(impl, ['ls', 's3://present', '--endpoint', `${impl.endpoint}/`]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});
