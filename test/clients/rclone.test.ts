/** rclone (remote configured through RCLONE_CONFIG_OFF_* variables) against `offload serve`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { bigFile, md5, mustRun, readTree, removeDir, run, tempDir, writeTree } from '../helpers/peers.js';

const RCLONE = '/usr/bin/rclone';
const bucket = 'rclone-media';

let server: TestServer;
let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

async function rclone(...args: string[]): Promise<string> {
  return (await mustRun(RCLONE, ['--retries', '1', '--low-level-retries', '1', ...args], { env, cwd: work, timeoutMs: 120_000 })).stdout;
}

interface LsEntry { Path: string; Name: string; Size: number; IsDir: boolean; MimeType?: string; Hashes?: { md5?: string } }

const tree: Record<string, string> = {
  'index.html': '<h1>rclone</h1>',
  'with space/file name.txt': 'spaces',
  'ünïcødé/日本.txt': 'unicode',
  'plus+sign.txt': 'plus',
  'percent%20sign.txt': 'percent',
  'deep/a/b/c.css': 'body{}',
  'empty.txt': '',
};

describe.skipIf(missingPeer('rclone', existsSync(RCLONE)))('rclone', () => {
  beforeAll(async () => {
    server = await startServer();
    home = tempDir('rclone-home');
    work = tempDir('rclone-work');
    env = {
      ...peerEnv(server, home),
      RCLONE_CONFIG: join(home, 'rclone.conf'),
      RCLONE_CONFIG_OFF_TYPE: 's3',
      RCLONE_CONFIG_OFF_PROVIDER: 'Other',
      RCLONE_CONFIG_OFF_ENDPOINT: server.endpoint,
      RCLONE_CONFIG_OFF_ACCESS_KEY_ID: server.accessKeyId,
      RCLONE_CONFIG_OFF_SECRET_ACCESS_KEY: server.secretAccessKey,
      RCLONE_CONFIG_OFF_REGION: server.region,
    };
    writeFileSync(join(home, 'rclone.conf'), '');
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(home);
    removeDir(work);
  });

  it('makes a bucket', async () => {
    await rclone('mkdir', `off:${bucket}`);
    const buckets = JSON.parse(await rclone('lsjson', 'off:')) as LsEntry[];
    expect(buckets.map((b) => b.Name)).toContain(bucket);
  });

  it('copies a tree with awkward names and lists it exactly', async () => {
    const src = writeTree(join(work, 'src'), tree);
    await rclone('copy', src, `off:${bucket}/site`);
    // Pages of two (ListObjects markers) across the awkward names; v1 and v2 listings agree.
    const listing = JSON.parse(await rclone('lsjson', '-R', '--files-only', '--hash', '--s3-list-chunk', '2', `off:${bucket}/site`)) as LsEntry[];
    const listingV2 = JSON.parse(await rclone('lsjson', '-R', '--files-only', '--hash', '--s3-list-chunk', '2', '--s3-list-version', '2', `off:${bucket}/site`)) as LsEntry[];
    expect(listingV2.map((e) => e.Path).sort()).toEqual(listing.map((e) => e.Path).sort());
    expect(listing.map((e) => e.Path).sort()).toEqual(Object.keys(tree).sort());
    for (const e of listing) {
      expect(e.Size).toBe(Buffer.byteLength(tree[e.Path]!));
      expect(e.Hashes?.md5).toBe(md5(Buffer.from(tree[e.Path]!)));
    }
    expect(listing.find((e) => e.Path === 'index.html')?.MimeType).toMatch(/^text\/html/);
    const top = JSON.parse(await rclone('lsjson', `off:${bucket}/site`)) as LsEntry[];
    expect(top.filter((e) => e.IsDir).map((e) => e.Name).sort()).toEqual(['deep', 'with space', 'ünïcødé']);
  });

  it('checks the copy against the source, and notices a difference', async () => {
    const src = join(work, 'src');
    const ok = await run(RCLONE, ['check', src, `off:${bucket}/site`], { env });
    expect(ok.stderr).toMatch(/0 differences found/);
    expect(ok.code).toBe(0);
    writeFileSync(join(src, 'plus+sign.txt'), 'changed');
    const bad = await run(RCLONE, ['check', src, `off:${bucket}/site`], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/1 differences found/);
  });

  it('syncs changes (update and delete) and copies the tree back intact', async () => {
    const src = join(work, 'src');
    rmSync(join(src, 'deep'), { recursive: true });
    writeFileSync(join(src, 'new file.txt'), 'new');
    await rclone('sync', src, `off:${bucket}/site`);
    const expected: Record<string, string> = { ...tree, 'plus+sign.txt': 'changed', 'new file.txt': 'new' };
    delete expected['deep/a/b/c.css'];
    await rclone('check', src, `off:${bucket}/site`);
    await rclone('copy', `off:${bucket}/site`, join(work, 'back'));
    const back = Object.fromEntries(Object.entries(readTree(join(work, 'back'))).map(([k, v]) => [k, v.toString()]));
    expect(back).toEqual(expected);
    expect(await rclone('cat', `off:${bucket}/site/ünïcødé/日本.txt`)).toBe('unicode');
  });

  it('uploads a 20 MiB file in 5 MiB parts and downloads it intact', async () => {
    const big = bigFile(work, 'big.bin', 20 * 1024 * 1024);
    await rclone('copyto', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', big.path, `off:${bucket}/big/big.bin`);
    const [entry] = JSON.parse(await rclone('lsjson', '--hash', `off:${bucket}/big/big.bin`)) as LsEntry[];
    expect(entry?.Size).toBe(big.data.length);
    // rclone stores the whole-file MD5 as metadata for multipart uploads and reports it back.
    expect(entry?.Hashes?.md5).toBe(md5(big.data));
    await rclone('copyto', `off:${bucket}/big/big.bin`, join(work, 'big.back.bin'));
    expect(readFileSync(join(work, 'big.back.bin')).equals(big.data)).toBe(true);
    // Ranged reads.
    const part = await mustRun(RCLONE, ['cat', '--offset', '5242870', '--count', '20', `off:${bucket}/big/big.bin`], { env });
    expect(part.stdoutBytes.equals(big.data.subarray(5242870, 5242890))).toBe(true);
    await rclone('check', '--download', big.path.replace(/big\.bin$/, ''), `off:${bucket}/big`, '--include', 'big.bin');
    // Server-side copy in 5 MiB UploadPartCopy pieces, then a server-side move (copy + delete).
    await rclone('copyto', '--s3-copy-cutoff', '5M', `off:${bucket}/big/big.bin`, `off:${bucket}/big/copy.bin`);
    await rclone('moveto', `off:${bucket}/big/copy.bin`, `off:${bucket}/moved/copy name.bin`);
    const moved = JSON.parse(await rclone('lsjson', '-R', '--files-only', '--hash', `off:${bucket}`, '--include', '/{big,moved}/**')) as LsEntry[];
    expect(moved.map((e) => [e.Path, e.Size]).sort()).toEqual([['big/big.bin', big.data.length], ['moved/copy name.bin', big.data.length]]);
    // The copy keeps the whole-file MD5 metadata of its source.
    expect(moved.find((e) => e.Path === 'moved/copy name.bin')?.Hashes?.md5).toBe(md5(big.data));
    await rclone('copyto', `off:${bucket}/moved/copy name.bin`, join(work, 'moved.bin'));
    expect(readFileSync(join(work, 'moved.bin')).equals(big.data)).toBe(true);
  });

  it('deletes files and purges the bucket', async () => {
    await rclone('delete', `off:${bucket}/site`, '--include', '*.txt');
    const left = JSON.parse(await rclone('lsjson', '-R', '--files-only', `off:${bucket}/site`)) as LsEntry[];
    expect(left.map((e) => e.Path)).toEqual(['index.html']);
    await rclone('purge', `off:${bucket}`);
    const buckets = JSON.parse(await rclone('lsjson', 'off:')) as LsEntry[];
    expect(buckets.map((b) => b.Name)).not.toContain(bucket);
  });
});
