/** s3cmd against `offload serve`, once signing with SigV4 and once with SigV2. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { anonGet, bigFile, md5, mustRun, readTree, removeDir, tempDir, writeTree } from '../helpers/peers.js';

const S3CMD = '/usr/bin/s3cmd';
const png1x1Size = 69;

let server: TestServer;
let home: string;

beforeAll(async () => {
  if (!existsSync(S3CMD)) return;
  server = await startServer();
  home = tempDir('s3cmd-home');
});
afterAll(async () => {
  await server?.stop();
  removeDir(home);
});

describe.skipIf(missingPeer('s3cmd', existsSync(S3CMD))).each([
  { sig: 'SigV4', v2: false },
  { sig: 'SigV2', v2: true },
])('s3cmd with $sig', ({ sig, v2 }) => {
  const bucket = `s3cmd-${sig.toLowerCase()}`;
  let work: string;
  let config: string;
  let env: NodeJS.ProcessEnv;

  async function s3cmd(...args: string[]): Promise<string> {
    return (await mustRun(S3CMD, ['-c', config, '--no-progress', ...args], { env, cwd: work, timeoutMs: 120_000 })).stdout;
  }

  beforeAll(() => {
    work = tempDir(`s3cmd-${sig}`);
    config = join(work, 's3cfg');
    env = peerEnv(server, home);
    writeFileSync(config, [
      '[default]',
      `access_key = ${server.accessKeyId}`,
      `secret_key = ${server.secretAccessKey}`,
      `host_base = 127.0.0.1:${server.port}`,
      `host_bucket = 127.0.0.1:${server.port}`,
      'bucket_location = us-east-1',
      'use_https = False',
      `signature_v2 = ${v2 ? 'True' : 'False'}`,
      'guess_mime_type = True',
      '',
    ].join('\n'));
  });
  afterAll(() => removeDir(work));

  it('makes a bucket', async () => {
    expect(await s3cmd('mb', `s3://${bucket}`)).toContain(`Bucket 's3://${bucket}/' created`);
    expect(await s3cmd('ls')).toMatch(new RegExp(`\\ss3://${bucket}$`, 'm'));
  });

  it('puts public files with guessed content types that anonymous clients can read', async () => {
    // A real 1x1 PNG: s3cmd guesses with libmagic (python3-magic) when present, else by extension.
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8ffff3f0005fe02fea73581840000000049454e44ae426082', 'hex');
    writeTree(work, { 'dot.png': png, 'page.html': '<!doctype html><html><body><p>hi</p></body></html>\n' });
    await s3cmd('put', '--acl-public', join(work, 'dot.png'), join(work, 'page.html'), `s3://${bucket}/pub/`);
    const img = await anonGet(server.endpoint, `/${bucket}/pub/dot.png`);
    expect(img.status).toBe(200);
    expect(img.body.equals(png)).toBe(true);
    expect(img.headers.get('content-type')).toBe('image/png');
    const html = await anonGet(server.endpoint, `/${bucket}/pub/page.html`);
    expect(html.status).toBe(200);
    expect(html.body.toString()).toContain('<p>hi</p>');
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('puts a private file and gets it back', async () => {
    writeFileSync(join(work, 'secret.txt'), `private ${sig}\n`);
    await s3cmd('put', join(work, 'secret.txt'), `s3://${bucket}/priv/secret.txt`);
    expect((await anonGet(server.endpoint, `/${bucket}/priv/secret.txt`)).status).toBe(403);
    await s3cmd('get', `s3://${bucket}/priv/secret.txt`, join(work, 'secret.back.txt'));
    expect(readFileSync(join(work, 'secret.back.txt'), 'utf8')).toBe(`private ${sig}\n`);
  });

  it('lists with ls and la', async () => {
    const top = await s3cmd('ls', `s3://${bucket}`);
    expect(top).toMatch(new RegExp(`DIR\\s+s3://${bucket}/priv/$`, 'm'));
    expect(top).toMatch(new RegExp(`DIR\\s+s3://${bucket}/pub/$`, 'm'));
    const pub = await s3cmd('ls', `s3://${bucket}/pub/`);
    expect(pub).toMatch(new RegExp(`\\s${png1x1Size}\\s+s3://${bucket}/pub/dot\\.png$`, 'm'));
    const all = await s3cmd('la', '--recursive');
    const keys = all.trim().split('\n').map((l) => l.split(/\s+/).pop()).filter((k) => k?.startsWith(`s3://${bucket}/`)).sort();
    expect(keys).toEqual([`s3://${bucket}/priv/secret.txt`, `s3://${bucket}/pub/dot.png`, `s3://${bucket}/pub/page.html`]);
  });

  it('syncs a tree up and down, and a second sync transfers nothing', async () => {
    const files = { 'a.txt': 'a', 'dir/b c.txt': 'spaced', 'dir/ünï.txt': 'unicode', 'x+y.txt': 'plus', 'empty.txt': '' };
    const tree = writeTree(join(work, 'tree'), files);
    await s3cmd('sync', `${tree}/`, `s3://${bucket}/tree/`);
    const again = await s3cmd('sync', '--stats', `${tree}/`, `s3://${bucket}/tree/`);
    expect(again).not.toMatch(/upload:/);
    const listing = await s3cmd('ls', '--recursive', `s3://${bucket}/tree/`);
    expect(listing.trim().split('\n').map((l) => l.replace(/^.*s3:\/\/[^/]+\//, '')).sort()).toEqual(['tree/a.txt', 'tree/dir/b c.txt', 'tree/dir/ünï.txt', 'tree/empty.txt', 'tree/x+y.txt']);
    const down = join(work, 'tree-down');
    await s3cmd('sync', `s3://${bucket}/tree/`, `${down}/`);
    expect(Object.fromEntries(Object.entries(readTree(down)).map(([k, v]) => [k, v.toString()]))).toEqual(files);
  });

  it('changes ACLs with setacl and reports them with info', async () => {
    await s3cmd('setacl', '--acl-public', `s3://${bucket}/priv/secret.txt`);
    expect((await anonGet(server.endpoint, `/${bucket}/priv/secret.txt`)).status).toBe(200);
    const info = await s3cmd('info', `s3://${bucket}/priv/secret.txt`);
    expect(info).toMatch(/ACL:\s+\*anon\*: READ/);
    expect(info).toContain(md5(Buffer.from(`private ${sig}\n`)));
    await s3cmd('setacl', '--acl-private', `s3://${bucket}/priv/secret.txt`);
    expect((await anonGet(server.endpoint, `/${bucket}/priv/secret.txt`)).status).toBe(403);
    expect(await s3cmd('info', `s3://${bucket}/priv/secret.txt`)).not.toMatch(/\*anon\*/);
  });

  it('copies, moves and modifies objects server-side, and signs URLs', async () => {
    await s3cmd('cp', `s3://${bucket}/priv/secret.txt`, `s3://${bucket}/copies/a copy.txt`);
    await s3cmd('mv', `s3://${bucket}/copies/a copy.txt`, `s3://${bucket}/copies/moved+1.txt`);
    const listing = await s3cmd('ls', `s3://${bucket}/copies/`);
    expect(listing.trim().split('\n').map((l) => l.replace(/^.*s3:\/\/[^/]+\//, ''))).toEqual(['copies/moved+1.txt']);
    await s3cmd('modify', '--add-header=Cache-Control:max-age=60', `s3://${bucket}/copies/moved+1.txt`);
    await s3cmd('get', `s3://${bucket}/copies/moved+1.txt`, join(work, 'moved.txt'));
    expect(readFileSync(join(work, 'moved.txt'), 'utf8')).toBe(`private ${sig}\n`);
    // signurl makes a query-string signed URL (SigV2 style: AWSAccessKeyId, Expires, Signature).
    const url = (await s3cmd('signurl', `s3://${bucket}/copies/moved+1.txt`, '+300')).trim();
    expect(url).toMatch(/[?&]Signature=/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('max-age=60');
    expect(await res.text()).toBe(`private ${sig}\n`);
    expect((await fetch(url.replace(/Expires=\d+/, 'Expires=4102444800'))).status).toBe(403);
  });

  it('reports bucket info and usage, and sets policy and website configuration', async () => {
    const info = await s3cmd('info', `s3://${bucket}`);
    expect(info).toMatch(/Location:\s+us-east-1/);
    expect(info).toMatch(/Policy:\s+none/);
    const du = await s3cmd('du', `s3://${bucket}/tree/`);
    expect(du).toMatch(new RegExp(`^\\s*${1 + 6 + 7 + 4}\\s+5 objects s3://${bucket}/tree/$`, 'm'));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/tree/*` }] };
    writeFileSync(join(work, 'policy.json'), JSON.stringify(policy));
    await s3cmd('setpolicy', join(work, 'policy.json'), `s3://${bucket}`);
    expect(await s3cmd('info', `s3://${bucket}`)).toContain('"Principal"');
    expect((await anonGet(server.endpoint, `/${bucket}/tree/x%2By.txt`)).body.toString()).toBe('plus');
    await s3cmd('delpolicy', `s3://${bucket}`);
    expect((await anonGet(server.endpoint, `/${bucket}/tree/x%2By.txt`)).status).toBe(403);
    await s3cmd('ws-create', '--ws-index=index.html', '--ws-error=404.html', `s3://${bucket}`);
    const ws = await s3cmd('ws-info', `s3://${bucket}`);
    expect(ws).toMatch(/Index document:\s+index\.html/);
    expect(ws).toMatch(/Error document:\s+404\.html/);
    await s3cmd('ws-delete', `s3://${bucket}`);
  });

  it('uploads a 20 MiB file in 5 MiB parts and downloads it intact', async () => {
    const big = bigFile(work, 'big.bin', 20 * 1024 * 1024);
    const out = await mustRun(S3CMD, ['-c', config, '--debug', 'put', '--multipart-chunk-size-mb=5', big.path, `s3://${bucket}/big.bin`], { env, timeoutMs: 120_000 });
    expect(out.stderr).toMatch(/MultiPart: Uploading .*big\.bin in 4 parts/);
    const info = await s3cmd('info', `s3://${bucket}/big.bin`);
    expect(info).toMatch(/File size:\s+20971520/);
    await s3cmd('get', `s3://${bucket}/big.bin`, join(work, 'big.back.bin'));
    expect(readFileSync(join(work, 'big.back.bin')).equals(big.data)).toBe(true);
  });

  it('deletes objects and removes the bucket', async () => {
    await s3cmd('del', `s3://${bucket}/pub/dot.png`);
    expect(await s3cmd('ls', `s3://${bucket}/pub/`)).not.toContain('dot.png');
    expect((await anonGet(server.endpoint, `/${bucket}/pub/dot.png`)).status).not.toBe(200);
    await s3cmd('del', '--recursive', '--force', `s3://${bucket}/`);
    expect((await s3cmd('ls', '--recursive', `s3://${bucket}`)).trim()).toBe('');
    expect(await s3cmd('rb', `s3://${bucket}`)).toContain(`Bucket 's3://${bucket}/' removed`);
    expect(await s3cmd('ls')).not.toContain(`s3://${bucket}`);
  });
});
