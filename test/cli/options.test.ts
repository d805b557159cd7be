/** Sync options end to end against s3rver: filters, --keep, --files-from, symlinks, sniffing, help. */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliExists, client, runCli, startS3rver, tempDir, type S3Impl } from './harness.js';
import { missingPeer } from '../helpers/require-peer.js';

describe.skipIf(missingPeer('the built CLI (npm run build)', builtCliExists()))('offload sync options (s3rver)', () => {
  let impl: S3Impl;
  let s3: S3Client;
  let cache: string;
  const dirs: string[] = [];
  const cli = (args: string[], input?: string) => runCli(impl, args, { cacheDir: cache, input });
  const keys = async (bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  const dir = (label: string) => {
    const d = tempDir(label);
    dirs.push(d);
    return d;
  };
  const write = (root: string, files: Record<string, string | Buffer>) => {
    for (const [p, data] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), data);
    }
  };

  beforeAll(async () => {
    impl = await startS3rver();
    s3 = client(impl);
    cache = dir('cache');
  });
  afterAll(async () => {
    s3?.destroy();
    await impl?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('applies --exclude/--include in order (last match wins) and --keep protects from --delete', async () => {
    expect((await cli(['mb', 's3://filters'])).code).toBe(0);
    const root = dir('filters');
    write(root, { 'a.psd': 'x', 'keep/b.psd': 'y', 'c.png': 'z', 'drafts/d.txt': 'd' });
    let res = await cli(['sync', root, 's3://filters', '--exclude', '*.psd', '--include', 'keep/*.psd', '--exclude', 'drafts/']);
    expect(res.code, res.stderr).toBe(0);
    expect(await keys('filters')).toEqual(['c.png', 'keep/b.psd']);
    res = await runCli(impl, ['put', 's3://filters', 'a.psd', 'drafts/d.txt'], { cwd: root, cacheDir: cache });
    expect(res.code, res.stderr).toBe(0);
    rmSync(join(root, 'c.png'));
    // c.png is gone locally and deleted; a.psd is excluded, drafts/ is kept: both stay.
    res = await cli(['sync', root, 's3://filters', '--delete', '--exclude', '*.psd', '--include', 'keep/*.psd', '--keep', 'drafts/', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.filter((l) => l.op === 'delete').map((l) => l.key)).toEqual(['c.png']);
    expect(await keys('filters')).toEqual(['a.psd', 'drafts/d.txt', 'keep/b.psd']);
  });

  it('syncs only --files-from paths (lines with comments, or NUL-separated)', async () => {
    expect((await cli(['mb', 's3://listed'])).code).toBe(0);
    const root = dir('listed');
    write(root, { 'one.txt': '1', 'two words.txt': '2', 'sub/three.txt': '3', 'four.txt': '4' });
    let res = await cli(['sync', root, 's3://listed', '--files-from', '-'], '# changed files\none.txt\nsub/three.txt\n');
    expect(res.code, res.stderr).toBe(0);
    expect(await keys('listed')).toEqual(['one.txt', 'sub/three.txt']);
    res = await cli(['sync', root, 's3://listed', '--files-from', '-', '-0'], 'two words.txt\0');
    expect(res.code, res.stderr).toBe(0);
    expect(await keys('listed')).toEqual(['one.txt', 'sub/three.txt', 'two words.txt']);
    res = await cli(['sync', root, 's3://listed', '--files-from', '-', '--delete'], 'one.txt\n');
    expect(res.code).not.toBe(0);
  });

  it('skips symlinks with a note unless --follow-symlinks, and warns on case-only differences', async () => {
    expect((await cli(['mb', 's3://links'])).code).toBe(0);
    const root = dir('links');
    write(root, { 'real.txt': 'real', 'Logo.png': 'a', 'logo.png': 'b' });
    symlinkSync(join(root, 'real.txt'), join(root, 'link.txt'));
    let res = await cli(['sync', root, 's3://links']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/skipping symlink .*link\.txt/);
    expect(res.stderr).toMatch(/differ only by case/);
    expect(await keys('links')).toEqual(['Logo.png', 'logo.png', 'real.txt']);
    res = await cli(['sync', root, 's3://links', '--follow-symlinks']);
    expect(res.code, res.stderr).toBe(0);
    expect(await keys('links')).toContain('link.txt');
  });

  it('types unknown names by their bytes, even with a character cut at the 8 KiB mark', async () => {
    expect((await cli(['mb', 's3://sniff'])).code).toBe(0);
    const root = dir('sniff');
    // 8191 ASCII bytes then a 3-byte character straddling the 8192-byte prefix.
    write(root, { NOTES: Buffer.concat([Buffer.alloc(8191, 0x61), Buffer.from('€ end', 'utf8')]), 'data.unknownext': Buffer.from([1, 2, 0, 3]) });
    const res = await cli(['sync', root, 's3://sniff']);
    expect(res.code, res.stderr).toBe(0);
    const type = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: 'sniff', Key: key }))).ContentType;
    expect(await type('NOTES')).toBe('text/plain; charset=utf-8');
    expect(await type('data.unknownext')).toBe('application/octet-stream');
  });

  it('reports a missing bucket in one line and exits non-zero', async () => {
    const root = dir('nobucket');
    write(root, { 'a.txt': 'a' });
    const res = await cli(['sync', root, 's3://no-such-bucket']);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/bucket does not exist/);
  });

  it('documents every command with examples in --help', async () => {
    const res = await runCli(undefined, ['--help']);
    for (const c of ['sync', 'put', 'ls', 'cp', 'rm', 'mb', 'rb', 'presign', 'public', 'cors']) expect(res.stdout).toMatch(new RegExp(`\\n\\s+${c}\\b`));
    const sync = await runCli(undefined, ['sync', '--help']);
    expect(sync.code).toBe(0);
    for (const o of ['--public', '--delete', '--dry-run', '--exclude', '--include', '--cache-control', '--content-type', '--concurrency', '--size-only', '--mtime', '--max-delete', '--keep', '--files-from', '--follow-symlinks', '--json', '--endpoint', '--region', '--profile', 'Examples:']) {
      expect(sync.stdout).toContain(o);
    }
  });

  it('explains in one line when a bucket refuses ACLs for --public', async () => {
    // A real HTTP endpoint behaving like an AWS bucket with Object Ownership "bucket owner enforced".
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>owned</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>');
          return;
        }
        res.writeHead(400, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessControlListNotSupported</Code><Message>The bucket does not allow ACLs</Message></Error>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const root = dir('acl');
      write(root, { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await runCli(undefined, ['sync', root, 's3://owned', '--public', '--endpoint', endpoint], { cacheDir: cache });
      expect(res.code).toBe(1);
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/offload public s3:\/\/owned/);
    } finally {
      server.close();
    }
  });

  it('retries throttling, 5xx and dropped connections, and still uploads everything', async () => {
    expect((await cli(['mb', 's3://flaky'])).code).toBe(0);
    const target = new URL(impl.endpoint);
    let puts = 0;
    // A real proxy in front of s3rver: the 1st PUT is throttled, the 2nd gets a 500, the 3rd loses its connection.
    const proxy = createServer((req, res) => {
      if (req.method === 'PUT') {
        puts++;
        if (puts === 1 || puts === 2) {
          req.resume();
          res.writeHead(puts === 1 ? 503 : 500, { 'content-type': 'application/xml' });
          res.end(`<Error><Code>${puts === 1 ? 'SlowDown' : 'InternalError'}</Code><Message>try again</Message></Error>`);
          return;
        }
        if (puts === 3) {
          req.socket.destroy();
          return;
        }
      }
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const root = dir('flaky');
      const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.txt`, `file ${i}`]));
      write(root, files);
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const res = await runCli(impl, ['sync', root, 's3://flaky', '--endpoint', endpoint, '--concurrency', '1'], { cacheDir: cache });
      expect(res.code, res.stderr).toBe(0);
      expect(puts).toBeGreaterThan(6);
      expect(await keys('flaky')).toEqual(Object.keys(files).sort());
    } finally {
      proxy.close();
    }
  });

  it('bad usage exits non-zero with one line and no stack trace', async () => {
    const root = dir('usage');
    for (const args of [['sync', root, dir('x')], ['sync', root, 's3://'], ['cp', 's3://media', '/tmp/x'], ['sync', root, 's3://media', '--cache-control', 'nonsense'], ['sync', root, 's3://media', '--size-only', '--mtime']]) {
      const res = await cli(args);
      expect(res.code, args.join(' ')).not.toBe(0);
      const lines = res.stderr.split('\n').filter(Boolean);
      expect(lines, res.stderr).toHaveLength(1);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
