/**
 * Who decides the Cache-Control a visitor gets for an object uploaded with `offload sync`, against
 * the real `offload serve`: an explicit object header (sync --cache-control, or a hashed name's
 * immutable) wins, else the bucket's cache rules, else the server's default for the type.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, client, objectUrl, runCli, startOffload, tempDir, type CliResult, type S3Impl } from './harness.js';
import { IMMUTABLE } from '../../src/cli/s3/rules.js';
import { DEFAULT_CACHE_CONTROL } from '../../src/media/cache-rules.js';

const FONT_RULE = 'public, max-age=31536000, immutable';

describe.skipIf(!builtCliExists())('cache header precedence: object header, bucket rule, server default', () => {
  let impl: S3Impl;
  let s3: S3Client;
  let root: string;
  let cache: string;
  const bucket = 'precedence';
  const cli = (args: string[], cacheDir = cache) => runCli(impl, args, { cacheDir });
  const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
  const served = async (key: string) => {
    const res = await fetch(objectUrl(impl, bucket, key));
    expect(res.status).toBe(200);
    return res.headers.get('cache-control');
  };
  /** The object's own header: the server marks one it filled in (rule, default) with x-offload-cache-control. */
  const stored = async (key: string) => {
    const res = await fetch(objectUrl(impl, bucket, key), { method: 'HEAD' });
    return res.headers.get('x-offload-cache-control') ? undefined : res.headers.get('cache-control');
  };
  const summary = (r: CliResult) => r.json.find((l) => l.op === 'summary')!;

  beforeAll(async () => {
    impl = await startOffload();
    s3 = client(impl);
    root = tempDir('precedence');
    cache = tempDir('precedence-cache');
    const files: Record<string, string> = {
      'fonts/inter.woff2': 'wOF2-font-bytes',
      'css/site.css': 'body{color:red}',
      'index.html': '<!doctype html><title>x</title>',
      'img/logo.png': 'png-bytes',
      'js/app.3f2a9c1b.js': 'console.log(1)',
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), text);
    }
    ok(await cli(['mb', `s3://${bucket}`]));
    ok(await cli(['bucket', 'rules', `s3://${bucket}`, '--add', `font/*=${FONT_RULE}`]));
  });

  afterAll(async () => {
    s3?.destroy();
    await impl?.stop();
    for (const d of [root, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('sync stores no Cache-Control of its own on un-hashed files, so the bucket rule and the server default answer', async () => {
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--json']);
    ok(res);
    const font = res.json.find((l) => l.key === 'fonts/inter.woff2');
    expect(font?.cacheControl).toBeUndefined();
    expect(await served('fonts/inter.woff2')).toBe(FONT_RULE);
    expect(await served('index.html')).toBe(DEFAULT_CACHE_CONTROL.html);
    expect(await served('css/site.css')).toBe(DEFAULT_CACHE_CONTROL.text);
    expect(await served('img/logo.png')).toBe(DEFAULT_CACHE_CONTROL.media);
    // A content-hashed name is the exception: it stores immutable itself.
    expect(await stored('js/app.3f2a9c1b.js')).toBe(IMMUTABLE);
    expect(await served('js/app.3f2a9c1b.js')).toBe(IMMUTABLE);
    expect(summary(res).shadowed).toBe(0);
  });

  it('a re-run with --check-headers changes nothing (a rule-filled header is not mistaken for a stored one)', async () => {
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--json', '--check-headers'], tempDir('precedence-nostate'));
    ok(res);
    expect(res.json.filter((l) => l.op === 'upload' || l.op === 'headers')).toEqual([]);
  });

  it('--cache-control sets an explicit header that wins, and the summary says which rule it shadows', async () => {
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--cache-control', 'fonts/*=no-cache']);
    ok(res);
    expect(await served('fonts/inter.woff2')).toBe('no-cache');
    expect(res.stderr).toContain("1 file(s) keep their own Cache-Control over the bucket's cache rules (fonts/inter.woff2: 'no-cache' instead of the rule's 'public, max-age=31536000, immutable')");
    const json = await cli(['sync', root, `s3://${bucket}`, '--public', '--json', '--cache-control', 'fonts/*=no-cache']);
    expect(summary(json).shadowed).toBe(1);
  });

  it("--cache-control '' drops stored headers, also ones written by another tool or an older sync", async () => {
    // An object stored by an older sync (no state file here): the header shadows the rule.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fonts/inter.woff2', Body: 'wOF2-font-bytes', ContentType: 'font/woff2', CacheControl: 'public, max-age=300', ACL: 'public-read' }));
    expect(await served('fonts/inter.woff2')).toBe('public, max-age=300');
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--json', '--cache-control', ''], tempDir('precedence-other-machine'));
    ok(res);
    expect(res.json.filter((l) => l.op === 'headers' || l.op === 'upload').map((l) => l.key)).toEqual(['fonts/inter.woff2']);
    expect(await stored('fonts/inter.woff2')).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fonts/inter.woff2' }))).CacheControl).toBe(FONT_RULE);
    expect(await served('fonts/inter.woff2')).toBe(FONT_RULE);
    // A hashed name keeps sync's own immutable.
    expect(await served('js/app.3f2a9c1b.js')).toBe(IMMUTABLE);
  });

  it("the server answers with the object's own header over a rule, and is still alive", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fonts/own.woff2', Body: 'x', ContentType: 'font/woff2', CacheControl: 'max-age=60', ACL: 'public-read' }));
    expect(await served('fonts/own.woff2')).toBe('max-age=60');
    expect((await fetch(`${impl.endpoint}/`)).status).toBeLessThan(500);
  });
});
