/**
 * `offload sync --hash` / `put --hash` against the real `offload serve`: content-hashed copies,
 * the manifest (uploaded last), re-runs, the --keep-hashed grace period and --hash-only.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/templates/manifest.js';
import { builtCliExists, client, objectUrl, runCli, startOffload, tempDir, type CliResult, type S3Impl } from './harness.js';
import { missingPeer } from '../helpers/require-peer.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/site/media');
const IMMUTABLE = 'public, max-age=31536000, immutable';

describe.skipIf(missingPeer('the built CLI (npm run build)', builtCliExists()))('offload sync --hash against offload serve', () => {
  let impl: S3Impl;
  let s3: S3Client;
  let media: string;
  let work: string;
  let cache: string;
  const cli = (args: string[], opts: { cwd?: string } = {}) => runCli(impl, args, { cacheDir: cache, ...opts });
  const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
  const get = async (bucket: string, key: string) => {
    const res = await fetch(objectUrl(impl, bucket, key), { headers: { 'accept-encoding': 'identity' } });
    return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
  };
  const manifestOf = async (bucket: string): Promise<Manifest> => JSON.parse((await get(bucket, 'offload-manifest.json')).data.toString('utf8')) as Manifest;
  const exists = async (bucket: string, key: string) => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  };
  const uploads = (r: CliResult) => r.json.filter((l) => l.op === 'upload').map((l) => l.key as string);

  beforeAll(async () => {
    impl = await startOffload();
    s3 = client(impl);
    work = tempDir('hash');
    cache = tempDir('hash-cache');
    media = join(work, 'media');
    cpSync(FIXTURE, media, { recursive: true });
    for (const b of ['media', 'media-only', 'media-put']) ok(await cli(['mb', `s3://${b}`]));
  });

  afterAll(async () => {
    s3?.destroy();
    await impl?.stop();
    for (const d of [work, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('uploads originals, hashed copies (immutable) and the manifest, last', async () => {
    const out = join(work, 'manifest.json');
    const res = await cli(['sync', media, 's3://media', '--hash', '--hash-base', '/media/', '--public', '--json', '--manifest-out', out]);
    ok(res);
    const keys = uploads(res);
    expect(keys.at(-1)).toBe('offload-manifest.json');
    expect(keys).toContain('css/site.css');
    const manifest = await manifestOf('media');
    expect(readFileSync(out, 'utf8')).toBe((await get('media', 'offload-manifest.json')).data.toString('utf8'));
    expect((await get('media', 'offload-manifest.json')).headers.get('cache-control')).toBe('no-cache');
    expect(Object.keys(manifest.files).sort()).toEqual(['css/fonts.css', 'css/site.css', 'fonts/open-sans.woff2', 'img/bg.png', 'img/icon.png', 'img/logo.png', 'js/app.js', 'js/app.js.map']);
    for (const [logical, entry] of Object.entries(manifest.files)) {
      expect(entry.key).not.toBe(logical);
      expect(keys).toContain(entry.key);
      const obj = await get('media', entry.key);
      expect(obj.status).toBe(200);
      expect(obj.headers.get('cache-control')).toBe(IMMUTABLE);
      expect(obj.headers.get('content-type')).toBe(entry.contentType);
      expect(obj.data.length).toBe(entry.size);
      expect(`sha384-${createHash('sha384').update(obj.data).digest('base64')}`).toBe(entry.integrity);
    }
    const site = (await get('media', manifest.files['css/site.css']!.key)).data.toString('utf8');
    const name = (logical: string) => manifest.files[logical]!.key.split('/').pop()!;
    expect(site).toContain(`@import "${name('css/fonts.css')}"`);
    expect(site).toContain(`url(../img/${name('img/bg.png')})`);
    expect(site).toContain(`url('../img/${name('img/logo.png')}')`);
    const fonts = (await get('media', manifest.files['css/fonts.css']!.key)).data.toString('utf8');
    expect(fonts).toContain(`../fonts/${name('fonts/open-sans.woff2')}`);
    // The originals are there as before.
    expect((await get('media', 'css/site.css')).data.equals(readFileSync(join(media, 'css/site.css')))).toBe(true);
  });

  it('uploads nothing on a second run', async () => {
    const res = await cli(['sync', media, 's3://media', '--hash', '--hash-base', '/media/', '--public', '--json', '--delete']);
    ok(res);
    expect(uploads(res)).toEqual([]);
    expect(res.json.filter((l) => l.op === 'delete')).toEqual([]);
  });

  it('keeps replaced hashed objects for --keep-hashed, then deletes them', async () => {
    const before = await manifestOf('media');
    writeFileSync(join(media, 'img/bg.png'), Buffer.concat([readFileSync(join(media, 'img/bg.png')), Buffer.from('changed')]));
    const res = await cli(['sync', media, 's3://media', '--hash', '--hash-base', '/media/', '--public', '--json', '--delete', '--keep-hashed', '7d']);
    ok(res);
    const after = await manifestOf('media');
    const oldBg = before.files['img/bg.png']!.key;
    const oldSite = before.files['css/site.css']!.key;
    expect(after.files['img/bg.png']!.key).not.toBe(oldBg);
    expect(after.files['css/site.css']!.key).not.toBe(oldSite); // it references bg.png
    expect(after.files['js/app.js']!.key).toBe(before.files['js/app.js']!.key);
    expect(uploads(res)).toEqual(expect.arrayContaining([after.files['img/bg.png']!.key, after.files['css/site.css']!.key, 'img/bg.png']));
    expect(uploads(res).at(-1)).toBe('offload-manifest.json');
    expect(res.json.filter((l) => l.op === 'delete')).toEqual([]);
    expect(await exists('media', oldBg)).toBe(true);
    expect(await exists('media', oldSite)).toBe(true);
    expect(Object.keys(after.retired ?? {}).sort()).toEqual([oldBg, oldSite].sort());

    // Still inside the grace period: a re-run keeps them and uploads nothing.
    const again = await cli(['sync', media, 's3://media', '--hash', '--hash-base', '/media/', '--public', '--json', '--delete']);
    ok(again);
    expect(uploads(again)).toEqual([]);
    expect(await exists('media', oldBg)).toBe(true);

    const purge = await cli(['sync', media, 's3://media', '--hash', '--hash-base', '/media/', '--public', '--json', '--delete', '--keep-hashed', '0s']);
    ok(purge);
    expect(purge.json.filter((l) => l.op === 'delete').map((l) => l.key).sort()).toEqual([oldBg, oldSite].sort());
    expect(await exists('media', oldBg)).toBe(false);
    expect(await exists('media', oldSite)).toBe(false);
    expect(await exists('media', after.files['img/bg.png']!.key)).toBe(true);
    expect((await manifestOf('media')).retired).toBeUndefined();
  });

  it('--hash-only uploads only hashed copies and the manifest; with --delete the originals go', async () => {
    ok(await cli(['sync', media, 's3://media-only', '--public']));
    expect(await exists('media-only', 'css/site.css')).toBe(true);
    const res = await cli(['sync', media, 's3://media-only', '--hash-only', '--hash-base', '/media/', '--public', '--json', '--delete']);
    ok(res);
    const manifest = await manifestOf('media-only');
    expect(uploads(res).sort()).toEqual([...Object.values(manifest.files).map((e) => e.key), 'offload-manifest.json'].sort());
    expect(res.json.filter((l) => l.op === 'delete').length).toBe(Object.keys(manifest.files).length);
    expect(await exists('media-only', 'css/site.css')).toBe(false);
    expect(await exists('media-only', manifest.files['css/site.css']!.key)).toBe(true);
    const again = await cli(['sync', media, 's3://media-only', '--hash-only', '--hash-base', '/media/', '--public', '--json', '--delete']);
    ok(again);
    expect(uploads(again)).toEqual([]);
    expect(again.json.filter((l) => l.op === 'delete')).toEqual([]);
  });

  it('put --hash merges its entries into the bucket manifest', async () => {
    const first = await cli(['put', 's3://media-put/assets', '--hash', '--public', '--json', 'css/fonts.css'], { cwd: media });
    ok(first);
    expect(uploads(first).at(-1)).toBe('assets/offload-manifest.json');
    const second = await cli(['put', 's3://media-put/assets', '--hash', '--hash-only', '--public', '--json', 'img/logo.png'], { cwd: media });
    ok(second);
    expect(uploads(second)).not.toContain('assets/img/logo.png');
    expect(await exists('media-put', 'offload-manifest.json')).toBe(false); // it lives under the prefix
    const text = (await get('media-put', 'assets/offload-manifest.json')).data.toString('utf8');
    const merged = JSON.parse(text) as Manifest;
    expect(Object.keys(merged.files).sort()).toEqual(['css/fonts.css', 'img/logo.png']);
    expect(await exists('media-put', `assets/${merged.files['img/logo.png']!.key}`)).toBe(true);
    expect(await exists('media-put', `assets/${merged.files['css/fonts.css']!.key}`)).toBe(true);
  });

  it('refuses --hash with --files-from and --keep-hashed without --hash', async () => {
    expect((await cli(['sync', media, 's3://media', '--hash', '--files-from', '-'])).code).not.toBe(0);
    expect((await cli(['sync', media, 's3://media', '--keep-hashed', '1d'])).code).not.toBe(0);
  });
});
