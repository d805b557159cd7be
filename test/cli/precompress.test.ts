/**
 * `offload sync --precompress` against the real `offload serve`: `.br`/`.gz` siblings are uploaded,
 * served with Content-Encoding to clients that accept them, skipped when unchanged, replaced when
 * the file changes and deleted with their original.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { cpSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { join, resolve } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/templates/manifest.js';
import { builtCliExists, client, objectUrl, runCli, startOffload, tempDir, type CliResult, type S3Impl } from './harness.js';
import { missingPeer } from '../helpers/require-peer.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/site/media');

/** Raw GET (no automatic decompression, unlike fetch). */
function rawGet(url: string, acceptEncoding?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolvePromise, reject) => {
    httpGet(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe.skipIf(missingPeer('the built CLI (npm run build)', builtCliExists()))('offload sync --precompress against offload serve', () => {
  let impl: S3Impl;
  let s3: S3Client;
  let media: string;
  let work: string;
  let cache: string;
  const bucket = 'media';
  const cli = (args: string[]) => runCli(impl, args, { cacheDir: cache });
  const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
  const summary = (r: CliResult) => r.json.find((l) => l.op === 'summary')!;
  const uploads = (r: CliResult) => r.json.filter((l) => l.op === 'upload').map((l) => l.key as string);
  const head = async (key: string) => {
    try {
      return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      return undefined;
    }
  };
  const sync = (...extra: string[]) => cli(['sync', media, `s3://${bucket}`, '--precompress', '--public', '--json', ...extra]);

  beforeAll(async () => {
    impl = await startOffload();
    s3 = client(impl);
    work = tempDir('precompress');
    cache = tempDir('precompress-cache');
    media = join(work, 'media');
    cpSync(FIXTURE, media, { recursive: true });
    ok(await cli(['mb', `s3://${bucket}`]));
  });

  afterAll(async () => {
    s3?.destroy();
    await impl?.stop();
    for (const d of [work, cache]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('uploads .br and .gz siblings of text files and the server serves them', async () => {
    const res = await sync();
    ok(res);
    const keys = uploads(res);
    expect(keys).toEqual(expect.arrayContaining(['css/site.css.br', 'css/site.css.gz', 'js/app.js.br', 'js/app.js.gz']));
    expect(keys.filter((k) => k.startsWith('img/') || k.startsWith('fonts/')).every((k) => !/\.(br|gz)$/.test(k))).toBe(true);
    const sibling = await head('css/site.css.br');
    expect(sibling?.ContentType).toBe('application/octet-stream');
    expect(sibling?.Metadata?.['offload-encoding']).toBe('br');
    expect((await head('css/site.css.gz'))?.Metadata?.['offload-encoding']).toBe('gzip');

    const original = readFileSync(join(media, 'css/site.css'));
    const url = objectUrl(impl, bucket, 'css/site.css');
    const br = await rawGet(url, 'br, gzip');
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.body).equals(original)).toBe(true);
    const gz = await rawGet(url, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(original)).toBe(true);
    const plain = await rawGet(url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(original)).toBe(true);
  });

  it('uploads nothing and compresses nothing on a second run', async () => {
    const res = await sync('--delete');
    ok(res);
    expect(uploads(res)).toEqual([]);
    expect(res.json.filter((l) => l.op === 'delete')).toEqual([]);
    expect(summary(res).compressed).toBe(0);
  });

  it('remembers a file whose compressed form does not pay off, without compressing it again', async () => {
    writeFileSync(join(media, 'js/tiny.js'), 'x');
    const first = await sync();
    ok(first);
    expect(uploads(first)).toEqual(['js/tiny.js']);
    expect(summary(first).compressed).toBe(2);
    const again = await sync();
    expect(uploads(again)).toEqual([]);
    expect(summary(again).compressed).toBe(0);
    unlinkSync(join(media, 'js/tiny.js'));
    ok(await sync('--delete'));
  });

  it('replaces the siblings of a changed file', async () => {
    const changed = Buffer.from(`${readFileSync(join(media, 'js/app.js'), 'utf8')}\nconsole.log("changed, changed, changed");\n`);
    writeFileSync(join(media, 'js/app.js'), changed);
    const res = await sync();
    ok(res);
    expect(uploads(res).sort()).toEqual(['js/app.js', 'js/app.js.br', 'js/app.js.gz']);
    expect(summary(res).compressed).toBe(2);
    const br = await rawGet(objectUrl(impl, bucket, 'js/app.js'), 'br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(changed)).toBe(true);
  });

  it('deletes the siblings with their original (--delete)', async () => {
    unlinkSync(join(media, 'css/fonts.css'));
    const res = await sync('--delete');
    ok(res);
    expect(res.json.filter((l) => l.op === 'delete').map((l) => l.key).sort()).toEqual(['css/fonts.css', 'css/fonts.css.br', 'css/fonts.css.gz']);
    for (const k of ['css/fonts.css', 'css/fonts.css.br', 'css/fonts.css.gz']) expect(await head(k)).toBeUndefined();
    expect(await head('css/site.css.br')).toBeDefined();
  });

  it('gives hashed copies siblings too', async () => {
    const res = await sync('--hash', '--hash-base', '/media/');
    ok(res);
    const manifest = JSON.parse((await rawGet(objectUrl(impl, bucket, 'offload-manifest.json'))).body.toString('utf8')) as Manifest;
    const hashed = manifest.files['css/site.css']!.key;
    expect(uploads(res)).toEqual(expect.arrayContaining([hashed, `${hashed}.br`, `${hashed}.gz`]));
    expect(uploads(res).at(-1)).toBe('offload-manifest.json');
    const br = await rawGet(objectUrl(impl, bucket, hashed), 'br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(brotliDecompressSync(br.body).toString('utf8')).toContain(manifest.files['img/bg.png']!.key.split('/').pop());
    const again = await sync('--hash', '--hash-base', '/media/', '--delete');
    ok(again);
    expect(uploads(again)).toEqual([]);
    expect(again.json.filter((l) => l.op === 'delete')).toEqual([]);
    expect(summary(again).compressed).toBe(0);
  });

  it('a plain sync of a changed file removes its now stale siblings', async () => {
    writeFileSync(join(media, 'css/site.css'), `${readFileSync(join(media, 'css/site.css'), 'utf8')}\n.x { color: red; }\n`);
    const res = await cli(['sync', media, `s3://${bucket}`, '--public', '--json']);
    ok(res);
    expect(res.json.filter((l) => l.op === 'delete').map((l) => l.key).sort()).toEqual(['css/site.css.br', 'css/site.css.gz']);
    const plain = await rawGet(objectUrl(impl, bucket, 'css/site.css'), 'br');
    expect(plain.headers['content-encoding']).toBeUndefined();
  });
});
