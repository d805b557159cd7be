/**
 * End-to-end scenario for the upload CLI, run against s3rver and against the real `offload serve`:
 * the built CLI (bin/offload.js) as a child process, real HTTP, real files.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFileSync, rmSync, unlinkSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_CONTROL } from '../../src/media/cache-rules.js';
import { builtCliExists, client, IMPLEMENTATIONS, makeTree, objectUrl, runCli, tempDir, type S3Impl, type TreeFile } from './harness.js';
import { missingPeer } from '../helpers/require-peer.js';

const BIG = 7 * 1024 * 1024;
const MP = ['--multipart-threshold', '6MiB'];

function listTree(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) visit(full);
      else out.push(relative(root, full).normalize('NFC'));
    }
  };
  visit(root);
  return out.sort();
}

async function getObject(s3: S3Client, bucket: string, key: string): Promise<{ data: Buffer; contentType?: string; cacheControl?: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const data = Buffer.from(await res.Body!.transformToByteArray());
  return { data, contentType: res.ContentType, cacheControl: res.CacheControl };
}

describe.skipIf(missingPeer('the built CLI (npm run build)', builtCliExists())).each(IMPLEMENTATIONS)('offload sync against $name', ({ start }) => {
  let impl: S3Impl;
  let s3: S3Client;
  let root: string;
  let cache: string;
  let files: TreeFile[];
  const bucket = 'media';
  const cli = (args: string[], opts: { cwd?: string; input?: string } = {}) => runCli(impl, args, { cacheDir: cache, ...opts });

  beforeAll(async () => {
    impl = await start();
    s3 = client(impl);
    root = tempDir('src');
    cache = tempDir('cache');
    files = makeTree(root, BIG);
    const mb = await cli(['mb', `s3://${bucket}`]);
    expect(mb.code, mb.stderr).toBe(0);
  });

  afterAll(async () => {
    s3?.destroy();
    await impl?.stop();
    for (const d of [root, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('uploads every file with the right bytes, Content-Type and Cache-Control', async () => {
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--json', ...MP]);
    expect(res.code, res.stderr).toBe(0);
    const uploads = res.json.filter((l) => l.op === 'upload');
    expect(uploads.map((l) => l.key).sort()).toEqual(files.map((f) => f.key).sort());
    for (const f of files) {
      const got = await getObject(s3, bucket, f.key);
      expect(got.data.equals(f.data), f.key).toBe(true);
      expect(got.contentType, f.key).toBe(f.contentType);
    }
    expect((await getObject(s3, bucket, 'css/app.3f2a9c1b.css')).cacheControl).toBe('public, max-age=31536000, immutable');
    // Un-hashed names store none: offload serve answers with its default for the type, s3rver with nothing.
    expect((await getObject(s3, bucket, 'js/main.js')).cacheControl).toBe(impl.name === 'offload serve' ? DEFAULT_CACHE_CONTROL.text : undefined);
    const big = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect(big.ContentLength).toBe(BIG);
    expect(big.Metadata?.md5).toMatch(/^[0-9a-f]{32}$/);
    if (impl.multipartEtags) expect(big.ETag).toMatch(/-2"?$/); // sent in two parts
    // Each file's MD5 is recorded for the next run, from the upload itself for new small files.
    const stateDir = join(cache, 'offload', 'sync-state');
    const state = JSON.parse(readFileSync(join(stateDir, readdirSync(stateDir).find((n) => n.endsWith('.json'))!), 'utf8')) as { local: Record<string, { md5: string }> };
    for (const f of files) {
      const record = Object.entries(state.local).find(([path]) => path.normalize('NFC').endsWith(f.key.normalize('NFC')))?.[1];
      expect(record?.md5, f.key).toBe(createHash('md5').update(f.data).digest('hex'));
    }
  });

  it('public objects answer an anonymous GET', async () => {
    if (!impl.enforcesAccess) return; // s3rver does not enforce access control
    for (const key of ['README', 'img/logo.svg', 'dir with space/file name.txt', 'caf\u00e9.txt', '100%.txt', 'hash#tag.txt']) {
      const res = await fetch(objectUrl(impl, bucket, key));
      expect(res.status, key).toBe(200);
      await res.arrayBuffer();
    }
  });

  it('a second sync uploads nothing', async () => {
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--json', ...MP]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.filter((l) => l.op !== 'summary')).toEqual([]);
    const summary = res.json.find((l) => l.op === 'summary');
    expect(summary).toMatchObject({ uploaded: 0, deleted: 0, failed: 0, skipped: files.length });
  });

  it('a fresh machine (no state file) also uploads nothing', async () => {
    const fresh = tempDir('fresh');
    const res = await runCli(impl, ['sync', root, `s3://${bucket}`, '--public', '--json', ...MP], { cacheDir: fresh });
    rmSync(fresh, { recursive: true, force: true });
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.find((l) => l.op === 'summary')).toMatchObject({ uploaded: 0, headers: 0, skipped: files.length });
  });

  it('changed header rules update headers in place without re-sending', async () => {
    const res = await cli(['sync', root, `s3://${bucket}`, '--public', '--json', ...MP, '--cache-control', '*.css=no-cache']);
    expect(res.code, res.stderr).toBe(0);
    const actions = res.json.filter((l) => l.op !== 'summary');
    expect(actions).toEqual([expect.objectContaining({ op: 'headers', key: 'css/app.3f2a9c1b.css', change: 'metadata' })]);
    const got = await getObject(s3, bucket, 'css/app.3f2a9c1b.css');
    expect(got.cacheControl).toBe('no-cache');
    expect(got.contentType).toBe('text/css; charset=utf-8');
    expect(got.data.toString()).toBe('body{color:red}\n');
  });

  it('sends a changed same-size file and deletes a removed one (dry run first)', async () => {
    const readme = files.find((f) => f.key === 'README')!;
    const changed = Buffer.from(readme.data);
    changed[0] = changed[0] === 0x52 ? 0x72 : 0x52; // same size, different bytes
    writeFileSync(join(root, 'README'), changed);
    unlinkSync(join(root, 'LICENSE'));
    const args = ['sync', root, `s3://${bucket}`, '--public', '--json', '--delete', '--max-delete', '5', ...MP, '--cache-control', '*.css=no-cache'];
    const dry = await cli([...args, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const diff = dry.json.filter((l) => l.op !== 'summary').map((l) => [l.change, l.key, l.dryRun]);
    expect(diff.sort()).toEqual([
      ['deleted', 'LICENSE', true],
      ['updated', 'README', true],
    ]);
    expect((await getObject(s3, bucket, 'LICENSE')).data.toString()).toBe('MIT License\n');

    const res = await cli(args);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.filter((l) => l.op !== 'summary').map((l) => [l.op, l.key]).sort()).toEqual([
      ['delete', 'LICENSE'],
      ['upload', 'README'],
    ]);
    expect((await getObject(s3, bucket, 'README')).data.equals(changed)).toBe(true);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'LICENSE' }))).rejects.toThrow();
    readme.data = changed;
    files = files.filter((f) => f.key !== 'LICENSE');
  });

  it('never deletes more than --max-delete', async () => {
    unlinkSync(join(root, 'TODO'));
    unlinkSync(join(root, 'empty.txt'));
    const res = await cli(['sync', root, `s3://${bucket}`, '--delete', '--max-delete', '1', '--json', ...MP, '--cache-control', '*.css=no-cache']);
    expect(res.code).not.toBe(0);
    expect(res.json.filter((l) => l.op === 'delete')).toEqual([]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'TODO' }))).ContentLength).toBe(5);
    writeFileSync(join(root, 'TODO'), files.find((f) => f.key === 'TODO')!.data);
    writeFileSync(join(root, 'empty.txt'), '');
  });

  it('put reads paths from stdin, keys relative to the current folder', async () => {
    const cwd = tempDir('put');
    mkdirSync(join(cwd, 'sub dir'), { recursive: true });
    writeFileSync(join(cwd, 'one.txt'), 'one');
    writeFileSync(join(cwd, 'sub dir', 'two+2.css'), 'b{}');
    const res = await cli(['put', `s3://${bucket}/put`, '--json'], { cwd, input: './one.txt\n# a comment\nsub dir/two+2.css\n' });
    expect(res.code, res.stderr).toBe(0);
    expect((await getObject(s3, bucket, 'put/one.txt')).data.toString()).toBe('one');
    const two = await getObject(s3, bucket, 'put/sub dir/two+2.css');
    expect(two.data.toString()).toBe('b{}');
    expect(two.contentType).toBe('text/css; charset=utf-8');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('bucket → local round-trips byte for byte, and a re-run downloads nothing', async () => {
    const dest = tempDir('back');
    const res = await cli(['sync', `s3://${bucket}`, dest, '--exclude', 'put/', ...MP]);
    expect(res.code, res.stderr).toBe(0);
    expect(listTree(dest)).toEqual(files.map((f) => f.key).sort());
    for (const f of files) expect(readFileSync(join(dest, f.key)).equals(f.data), f.key).toBe(true);
    const again = await cli(['sync', `s3://${bucket}`, dest, '--exclude', 'put/', '--json', ...MP]);
    expect(again.json.find((l) => l.op === 'summary')).toMatchObject({ downloaded: 0, failed: 0 });
    rmSync(dest, { recursive: true, force: true });
  });

  it('ls lists what was uploaded', async () => {
    const res = await cli(['ls', `s3://${bucket}/img/`]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split('\n').filter(Boolean).sort()).toEqual(['logo.svg', 'photo.webp', 'pic.avif']);
  });

});
