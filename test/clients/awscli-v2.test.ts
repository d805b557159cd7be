/** Debian's AWS CLI v2 (/usr/bin/aws) against `offload serve`: the high-level s3 commands and s3api. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { anonGet, bigFile, mustRun, readTree, removeDir, run, tempDir, writeTree } from '../helpers/peers.js';

const AWS = '/usr/bin/aws';
const bucket = 'awscli-v2';

let server: TestServer;
let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

/** Runs `aws` against the server and returns stdout; throws with the output on failure. */
async function aws(...args: string[]): Promise<string> {
  return (await mustRun(AWS, ['--endpoint-url', server.endpoint, '--no-cli-pager', ...args], { env, cwd: work, timeoutMs: 120_000 })).stdout;
}
async function awsJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  return JSON.parse(await aws(...args, '--output', 'json')) as T;
}

describe.skipIf(missingPeer('AWS CLI v2', existsSync(AWS)))('AWS CLI v2', () => {
  beforeAll(async () => {
    server = await startServer();
    home = tempDir('awsv2-home');
    work = tempDir('awsv2-work');
    env = { ...peerEnv(server, home), AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
    // Path-style addressing: the server is reached by IP, not bucket.host names.
    writeFileSync(join(home, 'config'), '[default]\ns3 =\n  addressing_style = path\n');
    const version = await mustRun(AWS, ['--version'], { env });
    expect(version.stdout).toMatch(/^aws-cli\/2\./);
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(home);
    removeDir(work);
  });

  it('makes a bucket and lists it', async () => {
    expect(await aws('s3', 'mb', `s3://${bucket}`)).toContain(`make_bucket: ${bucket}`);
    expect(await aws('s3', 'ls')).toMatch(new RegExp(`\\s${bucket}$`, 'm'));
  });

  it('copies a small file up and down', async () => {
    writeFileSync(join(work, 'hello.txt'), 'hello from aws cli v2\n');
    await aws('s3', 'cp', join(work, 'hello.txt'), `s3://${bucket}/docs/hello.txt`);
    await aws('s3', 'cp', `s3://${bucket}/docs/hello.txt`, join(work, 'hello.back.txt'));
    expect(readFileSync(join(work, 'hello.back.txt'), 'utf8')).toBe('hello from aws cli v2\n');
    const head = await awsJson<{ ContentLength: number; ContentType: string; ETag: string }>('s3api', 'head-object', '--bucket', bucket, '--key', 'docs/hello.txt');
    expect(head.ContentLength).toBe(22);
    expect(head.ContentType).toBe('text/plain');
    expect(head.ETag).toBe(`"${createHash('md5').update('hello from aws cli v2\n').digest('hex')}"`);
  });

  it('copies a 20 MiB file as a multipart upload and back', async () => {
    const big = bigFile(work, 'big.bin', 20 * 1024 * 1024);
    await aws('s3', 'cp', big.path, `s3://${bucket}/big.bin`);
    const head = await awsJson<{ ContentLength: number; ETag: string }>('s3api', 'head-object', '--bucket', bucket, '--key', 'big.bin');
    expect(head.ContentLength).toBe(big.data.length);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/); // multipart ETag
    await aws('s3', 'cp', `s3://${bucket}/big.bin`, join(work, 'big.back.bin'));
    expect(readFileSync(join(work, 'big.back.bin')).equals(big.data)).toBe(true);
    // Bucket to bucket above the multipart threshold: CreateMultipartUpload + UploadPartCopy.
    await aws('s3', 'cp', `s3://${bucket}/big.bin`, `s3://${bucket}/big-copy.bin`);
    const copyHead = await awsJson<{ ContentLength: number; ETag: string }>('s3api', 'head-object', '--bucket', bucket, '--key', 'big-copy.bin');
    expect(copyHead.ContentLength).toBe(big.data.length);
    expect(copyHead.ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/);
    await aws('s3', 'mv', `s3://${bucket}/big-copy.bin`, join(work, 'big.copy.bin'));
    expect(readFileSync(join(work, 'big.copy.bin')).equals(big.data)).toBe(true);
    expect((await run(AWS, ['--endpoint-url', server.endpoint, 's3api', 'head-object', '--bucket', bucket, '--key', 'big-copy.bin'], { env })).code).not.toBe(0);
  });

  it('syncs a tree up, then a second sync uploads nothing', async () => {
    const tree = writeTree(join(work, 'site'), {
      'index.html': '<h1>home</h1>',
      'css/site.css': 'body{}',
      'img/a b.txt': 'space',
      'img/ünï.txt': 'unicode',
      'img/x+y%z.txt': 'plus and percent',
    });
    const first = await aws('s3', 'sync', tree, `s3://${bucket}/site/`);
    expect(first.match(/^upload:/gm)).toHaveLength(5);
    const second = await aws('s3', 'sync', tree, `s3://${bucket}/site/`);
    expect(second.trim()).toBe('');
    // Small pages: ListObjectsV2 continuation tokens across awkward key names.
    const listing = await aws('s3', 'ls', '--recursive', '--page-size', '2', `s3://${bucket}/site/`);
    const keys = listing.trim().split('\n').map((l) => l.replace(/^\S+\s+\S+\s+\d+\s+/, '')).sort();
    expect(keys).toEqual(['site/css/site.css', 'site/img/a b.txt', 'site/img/x+y%z.txt', 'site/img/ünï.txt', 'site/index.html']);
    const down = join(work, 'site-down');
    await aws('s3', 'sync', `s3://${bucket}/site/`, down);
    expect(Object.fromEntries(Object.entries(readTree(down)).map(([k, v]) => [k, v.toString()]))).toEqual({
      'index.html': '<h1>home</h1>', 'css/site.css': 'body{}', 'img/a b.txt': 'space', 'img/ünï.txt': 'unicode', 'img/x+y%z.txt': 'plus and percent',
    });
    // --delete removes what is gone locally.
    rmSync(join(tree, 'img/a b.txt'));
    expect((await aws('s3', 'sync', '--delete', tree, `s3://${bucket}/site/`)).trim()).toBe(`delete: s3://${bucket}/site/img/a b.txt`);
    const top = await aws('s3', 'ls', `s3://${bucket}/site/`);
    expect(top).toMatch(/PRE css\//);
    expect(top).toMatch(/PRE img\//);
    expect(top).toMatch(/\s13 index\.html$/m);
  });

  it('puts a public-read object that anonymous clients can fetch, and private ones they cannot', async () => {
    writeFileSync(join(work, 'pub.txt'), 'public bytes');
    await aws('s3api', 'put-object', '--bucket', bucket, '--key', 'pub.txt', '--body', join(work, 'pub.txt'), '--acl', 'public-read', '--content-type', 'text/plain');
    const pub = await anonGet(server.endpoint, `/${bucket}/pub.txt`);
    expect(pub.status).toBe(200);
    expect(pub.body.toString()).toBe('public bytes');
    expect((await anonGet(server.endpoint, `/${bucket}/docs/hello.txt`)).status).toBe(403);
  });

  it('reports ACL grants and honours a bucket policy for anonymous reads', async () => {
    const acl = await awsJson<{ Grants: { Grantee: { URI?: string }; Permission: string }[] }>('s3api', 'get-object-acl', '--bucket', bucket, '--key', 'pub.txt');
    expect(acl.Grants).toContainEqual(expect.objectContaining({ Grantee: expect.objectContaining({ URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }) as unknown, Permission: 'READ' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'PublicSite', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/site/*` }],
    };
    await aws('s3api', 'put-bucket-policy', '--bucket', bucket, '--policy', JSON.stringify(policy));
    const back = await awsJson<{ Policy: string }>('s3api', 'get-bucket-policy', '--bucket', bucket);
    expect(JSON.parse(back.Policy)).toMatchObject({ Statement: [expect.objectContaining({ Sid: 'PublicSite' })] });
    const page = await anonGet(server.endpoint, `/${bucket}/site/index.html`);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('<h1>home</h1>');
    expect((await anonGet(server.endpoint, `/${bucket}/site/img/${encodeURIComponent('ünï.txt')}`)).status).toBe(200);
    expect((await anonGet(server.endpoint, `/${bucket}/docs/hello.txt`)).status).toBe(403);
    await aws('s3api', 'delete-bucket-policy', '--bucket', bucket);
    expect((await anonGet(server.endpoint, `/${bucket}/site/index.html`)).status).toBe(403);
  });

  it('sends and verifies flexible checksums (CRC32, CRC32C, SHA256)', async () => {
    const data = Buffer.from('checksummed content '.repeat(1000));
    writeFileSync(join(work, 'sum.bin'), data);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const known: Record<string, string> = { CRC32: crc.toString('base64'), SHA256: createHash('sha256').update(data).digest('base64') };
    for (const algo of ['CRC32', 'CRC32C', 'SHA256']) {
      const put = await awsJson<Record<string, string>>('s3api', 'put-object', '--bucket', bucket, '--key', `sum-${algo}`, '--body', join(work, 'sum.bin'), '--checksum-algorithm', algo);
      const head = await awsJson<Record<string, string>>('s3api', 'head-object', '--bucket', bucket, '--key', `sum-${algo}`, '--checksum-mode', 'ENABLED');
      expect(head[`Checksum${algo}`], algo).toBe(put[`Checksum${algo}`]);
      expect(head[`Checksum${algo}`], algo).toEqual(known[algo] ?? expect.stringMatching(/^[A-Za-z0-9+/]{6}==$/));
      // get-object with checksum mode validates the response body against the stored checksum.
      await aws('s3api', 'get-object', '--bucket', bucket, '--key', `sum-${algo}`, '--checksum-mode', 'ENABLED', join(work, `sum-${algo}.back`));
      expect(readFileSync(join(work, `sum-${algo}.back`)).equals(data)).toBe(true);
    }
  });

  it('heads objects and reports 404 for a missing key', async () => {
    const head = await awsJson<{ ContentLength: number; ContentType: string }>('s3api', 'head-object', '--bucket', bucket, '--key', 'pub.txt');
    expect(head).toMatchObject({ ContentLength: 12, ContentType: 'text/plain' });
    const missing = await run(AWS, ['--endpoint-url', server.endpoint, 's3api', 'head-object', '--bucket', bucket, '--key', 'nope'], { env });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/404|Not Found/);
  });

  it('copies an object server-side', async () => {
    const out = await awsJson<{ CopyObjectResult: { ETag: string } }>('s3api', 'copy-object', '--bucket', bucket, '--key', 'copy/hello.txt', '--copy-source', `${bucket}/docs/hello.txt`);
    expect(out.CopyObjectResult.ETag).toBe(`"${createHash('md5').update('hello from aws cli v2\n').digest('hex')}"`);
    await aws('s3', 'cp', `s3://${bucket}/copy/hello.txt`, join(work, 'copied.txt'));
    expect(readFileSync(join(work, 'copied.txt'), 'utf8')).toBe('hello from aws cli v2\n');
    await aws('s3', 'cp', `s3://${bucket}/copy/hello.txt`, `s3://${bucket}/copy/hello2.txt`);
    expect((await awsJson<{ ContentLength: number }>('s3api', 'head-object', '--bucket', bucket, '--key', 'copy/hello2.txt')).ContentLength).toBe(22);
  });

  it('deletes several objects in one request', async () => {
    const out = await awsJson<{ Deleted: { Key: string }[] }>('s3api', 'delete-objects', '--bucket', bucket, '--delete',
      JSON.stringify({ Objects: [{ Key: 'copy/hello.txt' }, { Key: 'copy/hello2.txt' }, { Key: 'never-existed' }] }));
    expect(out.Deleted.map((d) => d.Key).sort()).toEqual(['copy/hello.txt', 'copy/hello2.txt', 'never-existed']);
    const list = await awsJson<{ KeyCount: number }>('s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'copy/', '--no-paginate');
    expect(list.KeyCount).toBe(0);
  });

  it('presigns a URL that fetches without credentials', async () => {
    const url = (await aws('s3', 'presign', `s3://${bucket}/docs/hello.txt`, '--expires-in', '300')).trim();
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from aws cli v2\n');
    const tampered = await fetch(url.replace('docs/hello.txt', 'pub.txt'));
    expect(tampered.status).toBe(403);
  });

  it('removes everything recursively and deletes the bucket', async () => {
    const out = await aws('s3', 'rm', '--recursive', `s3://${bucket}/`);
    expect(out).toMatch(/^delete: s3:\/\/awscli-v2\/big\.bin$/m);
    const list = await awsJson<{ KeyCount: number }>('s3api', 'list-objects-v2', '--bucket', bucket, '--no-paginate');
    expect(list.KeyCount).toBe(0);
    expect(await aws('s3', 'rb', `s3://${bucket}`)).toContain(`remove_bucket: ${bucket}`);
    expect(await aws('s3', 'ls')).not.toContain(bucket);
  });
});
