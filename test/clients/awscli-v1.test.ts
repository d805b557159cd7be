/**
 * The AWS CLI v1 on PATH (pip/pyenv) with a current botocore, which sends the 2025 default
 * checksums: aws-chunked bodies with a CRC32 trailer on every upload. botocore only uses trailers
 * over https, so the CLI talks to the server through a local TLS front. Skipped when absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { anonGet, bigFile, findOnPath, mustRun, readTree, removeDir, run, startTlsFront, tempDir, writeTree, type TlsFront } from '../helpers/peers.js';

const AWS = findOnPath('aws', ['--version'], /^aws-cli\/1\./);
const bucket = 'awscli-v1';

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

let server: TestServer;
let tls: TlsFront;
let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

async function aws(...args: string[]): Promise<string> {
  return (await mustRun(AWS!, ['--endpoint-url', tls.endpoint, ...args], { env, cwd: work, timeoutMs: 120_000 })).stdout;
}
async function awsJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  return JSON.parse(await aws(...args, '--output', 'json')) as T;
}

describe.skipIf(missingPeer('AWS CLI v1', AWS))('AWS CLI v1 with default checksums', () => {
  beforeAll(async () => {
    server = await startServer();
    home = tempDir('awsv1-home');
    work = tempDir('awsv1-work');
    env = { ...peerEnv(server, home), AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
    writeFileSync(join(home, 'config'), '[default]\ns3 =\n  addressing_style = path\n');
    tls = await startTlsFront(server.port, home);
    env.AWS_CA_BUNDLE = tls.caFile;
  });
  afterAll(async () => {
    await tls?.close();
    await server?.stop();
    removeDir(home);
    removeDir(work);
  });

  it('makes a bucket and copies a small file up and down with a CRC32 trailer', async () => {
    expect(await aws('s3', 'mb', `s3://${bucket}`)).toContain(`make_bucket: ${bucket}`);
    writeFileSync(join(work, 'hello.txt'), 'hello from aws cli v1\n');
    const up = await mustRun(AWS!, ['--endpoint-url', tls.endpoint, '--debug', 's3', 'cp', join(work, 'hello.txt'), `s3://${bucket}/hello.txt`], { env });
    // Proof that the upload really was aws-chunked with a checksum trailer.
    expect(up.stderr).toContain('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(up.stderr).toMatch(/x-amz-trailer.{0,8}x-amz-checksum-crc32/i);
    const head = await awsJson<Record<string, unknown>>('s3api', 'head-object', '--bucket', bucket, '--key', 'hello.txt', '--checksum-mode', 'ENABLED');
    expect(head.ContentLength).toBe(22);
    expect(head.ETag).toBe(`"${createHash('md5').update('hello from aws cli v1\n').digest('hex')}"`);
    // The default checksum the client computed is stored and given back.
    expect(head.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    await aws('s3', 'cp', `s3://${bucket}/hello.txt`, join(work, 'hello.back.txt'));
    expect(readFileSync(join(work, 'hello.back.txt'), 'utf8')).toBe('hello from aws cli v1\n');
  });

  it('copies a 20 MiB file as a multipart upload and back', async () => {
    const big = bigFile(work, 'big.bin', 20 * 1024 * 1024);
    await aws('s3', 'cp', big.path, `s3://${bucket}/big.bin`);
    const head = await awsJson<{ ContentLength: number; ETag: string; ChecksumCRC32?: string; ChecksumType?: string }>(
      's3api', 'head-object', '--bucket', bucket, '--key', 'big.bin', '--checksum-mode', 'ENABLED');
    expect(head.ContentLength).toBe(big.data.length);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/);
    // Each part went up with a CRC32 trailer; the object carries the combined checksum.
    if (head.ChecksumType === 'FULL_OBJECT') expect(head.ChecksumCRC32).toBe(crc32Base64(big.data));
    else expect(head.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==-\d+$/);
    await aws('s3', 'cp', `s3://${bucket}/big.bin`, join(work, 'big.back.bin'));
    expect(readFileSync(join(work, 'big.back.bin')).equals(big.data)).toBe(true);
  });

  it('syncs a tree up and down; a second sync is a no-op', async () => {
    const files = { 'index.html': '<p>v1</p>', 'a b/ünï.txt': 'unicode', 'x+y.txt': 'plus' };
    const tree = writeTree(join(work, 'tree'), files);
    expect((await aws('s3', 'sync', tree, `s3://${bucket}/tree/`)).match(/^upload:/gm)).toHaveLength(3);
    expect((await aws('s3', 'sync', tree, `s3://${bucket}/tree/`)).trim()).toBe('');
    const listing = await aws('s3', 'ls', '--recursive', `s3://${bucket}/tree/`);
    expect(listing.trim().split('\n').map((l) => l.replace(/^\S+\s+\S+\s+\d+\s+/, '')).sort()).toEqual(['tree/a b/ünï.txt', 'tree/index.html', 'tree/x+y.txt']);
    await aws('s3', 'sync', `s3://${bucket}/tree/`, join(work, 'tree-down'));
    expect(Object.fromEntries(Object.entries(readTree(join(work, 'tree-down'))).map(([k, v]) => [k, v.toString()]))).toEqual(files);
  });

  it('puts a public-read object, heads it, copies it and deletes in bulk', async () => {
    writeFileSync(join(work, 'pub.txt'), 'public v1');
    await aws('s3api', 'put-object', '--bucket', bucket, '--key', 'pub.txt', '--body', join(work, 'pub.txt'), '--acl', 'public-read', '--content-type', 'text/plain');
    const pub = await anonGet(server.endpoint, `/${bucket}/pub.txt`);
    expect(pub.status).toBe(200);
    expect(pub.body.toString()).toBe('public v1');
    expect((await anonGet(server.endpoint, `/${bucket}/hello.txt`)).status).toBe(403);
    expect(await awsJson('s3api', 'head-object', '--bucket', bucket, '--key', 'pub.txt')).toMatchObject({ ContentLength: 9, ContentType: 'text/plain' });
    const missing = await run(AWS!, ['--endpoint-url', tls.endpoint, 's3api', 'head-object', '--bucket', bucket, '--key', 'nope'], { env });
    expect(missing.stderr).toMatch(/404|Not Found/);
    await aws('s3api', 'copy-object', '--bucket', bucket, '--key', 'pub-copy.txt', '--copy-source', `${bucket}/pub.txt`);
    await aws('s3', 'cp', `s3://${bucket}/pub-copy.txt`, join(work, 'pub-copy.txt'));
    expect(readFileSync(join(work, 'pub-copy.txt'), 'utf8')).toBe('public v1');
    const del = await awsJson<{ Deleted: { Key: string }[] }>('s3api', 'delete-objects', '--bucket', bucket, '--delete',
      JSON.stringify({ Objects: [{ Key: 'pub.txt' }, { Key: 'pub-copy.txt' }] }));
    expect(del.Deleted.map((d) => d.Key).sort()).toEqual(['pub-copy.txt', 'pub.txt']);
    expect((await anonGet(server.endpoint, `/${bucket}/pub.txt`)).status).not.toBe(200);
  });

  it('presigns a URL that fetches without credentials', async () => {
    // Presigned on the plain-http endpoint so that fetch needs no custom CA.
    const presign = await mustRun(AWS!, ['--endpoint-url', server.endpoint, 's3', 'presign', `s3://${bucket}/hello.txt`, '--expires-in', '300'], { env });
    const url = presign.stdout.trim();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from aws cli v1\n');
  });

  it('removes everything recursively and deletes the bucket', async () => {
    await aws('s3', 'rm', '--recursive', `s3://${bucket}/`);
    expect((await aws('s3', 'ls', '--recursive', `s3://${bucket}/`)).trim()).toBe('');
    expect(await aws('s3', 'rb', `s3://${bucket}`)).toContain(`remove_bucket: ${bucket}`);
    expect(await aws('s3', 'ls')).not.toContain(bucket);
  });
});
