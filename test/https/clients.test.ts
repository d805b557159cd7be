/**
 * Every real client's core workflow over HTTPS against `offload serve --tls-cert`: bucket, upload
 * (multipart where the client does it), list, download, range, delete, each trusting the test CA
 * the way its users would (--ca-bundle, an https agent, verify=, ca_certs_file, --ca-cert).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { bigFile, md5, mustRun, removeDir, tempDir } from '../helpers/peers.js';
import { missingPeer } from '../helpers/require-peer.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';

const AWS = '/usr/bin/aws';
const S3CMD = '/usr/bin/s3cmd';
const RCLONE = '/usr/bin/rclone';
const PYTHON = '/usr/bin/python3';

let ca: TestCa;
let server: TestServer;
let endpoint: string;
let work: string;

beforeAll(async () => {
  ca = await makeTestCa();
  const pair = ca.write('api', await ca.issue(['127.0.0.1', 'localhost']));
  server = await startServer({ args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--tls-port', '0'] });
  endpoint = `https://127.0.0.1:${server.tlsPort!}`;
  work = tempDir('https-clients');
}, 60_000);
afterAll(async () => {
  await server?.stop();
  removeDir(work);
});

describe('AWS SDK v3 over HTTPS', () => {
  it('puts, uploads in parts, lists, gets a range and deletes, trusting the CA through its https agent', async () => {
    const s3 = new S3Client({
      endpoint, region: server.region, forcePathStyle: true, maxAttempts: 1,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: ca.certPem }) }),
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'a.txt', Body: 'hello sdk over tls', ContentType: 'text/plain' }));
    const big = Buffer.alloc(11 * 1024 * 1024, 7);
    await new Upload({ client: s3, params: { Bucket: 'sdk', Key: 'big.bin', Body: big }, partSize: 5 * 1024 * 1024 }).done();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['a.txt', 'big.bin']);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'a.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello sdk over tls');
    const range = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'big.bin', Range: 'bytes=0-9' }));
    expect(range.ContentRange).toBe(`bytes 0-9/${big.length}`);
    expect(Buffer.from(await range.Body!.transformToByteArray()).equals(big.subarray(0, 10))).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk', Key: 'a.txt' }));
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'sdk' }))).KeyCount).toBe(1);
    s3.destroy();
  }, 60_000);
});

describe.skipIf(missingPeer('AWS CLI v2', existsSync(AWS)))('AWS CLI v2 over HTTPS', () => {
  it('mb, cp up (multipart) and down, ls, rm with --ca-bundle', async () => {
    const home = tempDir('https-aws');
    const env = { ...peerEnv(server, home), AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') };
    writeFileSync(join(home, 'config'), '[default]\ns3 =\n  addressing_style = path\n');
    const aws = async (...args: string[]) => (await mustRun(AWS, ['--endpoint-url', endpoint, '--ca-bundle', ca.caFile, '--no-cli-pager', ...args], { env, cwd: work, timeoutMs: 120_000 })).stdout;
    try {
      expect(await aws('s3', 'mb', 's3://awscli')).toContain('make_bucket: awscli');
      const file = bigFile(work, 'aws-big.bin', 20 * 1024 * 1024);
      await aws('s3', 'cp', file.path, 's3://awscli/big.bin');
      await aws('s3', 'cp', 's3://awscli/big.bin', join(work, 'aws-back.bin'));
      expect(md5(readFileSync(join(work, 'aws-back.bin')))).toBe(md5(file.data));
      expect(await aws('s3', 'ls', 's3://awscli/')).toMatch(/\s20971520 big\.bin$/m);
      await aws('s3', 'rm', 's3://awscli/big.bin');
      expect(await aws('s3', 'ls', 's3://awscli/')).toBe('');
    } finally {
      removeDir(home);
    }
  }, 120_000);
});

describe.skipIf(missingPeer('boto3', existsSync(PYTHON)))('boto3 over HTTPS', () => {
  it('put, upload_file in parts, list, get with a range, delete with verify=CA', async () => {
    const script = `
import json, os, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=os.environ['ENDPOINT'], verify=os.environ['CA'], config=Config(s3={'addressing_style': 'path'}))
s3.create_bucket(Bucket='boto')
s3.put_object(Bucket='boto', Key='hello.txt', Body=b'hello boto3 tls')
big = os.path.join(os.environ['WORK'], 'boto-big.bin')
with open(big, 'wb') as f: f.write(b'x' * (12 * 1024 * 1024))
s3.upload_file(big, 'boto', 'big.bin', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
keys = [o['Key'] for o in s3.list_objects_v2(Bucket='boto')['Contents']]
body = s3.get_object(Bucket='boto', Key='hello.txt')['Body'].read().decode()
part = s3.get_object(Bucket='boto', Key='big.bin', Range='bytes=5-9')
s3.delete_object(Bucket='boto', Key='hello.txt')
left = [o['Key'] for o in s3.list_objects_v2(Bucket='boto')['Contents']]
print(json.dumps({'keys': keys, 'body': body, 'range': part['ContentRange'], 'size': part['ContentLength'], 'left': left}))
`;
    const home = tempDir('https-boto');
    try {
      const out = await mustRun(PYTHON, ['-c', script], { env: { ...peerEnv(server, home), ENDPOINT: endpoint, CA: ca.caFile, WORK: work }, timeoutMs: 120_000 });
      expect(JSON.parse(out.stdout)).toEqual({ keys: ['big.bin', 'hello.txt'], body: 'hello boto3 tls', range: `bytes 5-9/${12 * 1024 * 1024}`, size: 5, left: ['big.bin'] });
    } finally {
      removeDir(home);
    }
  }, 120_000);
});

describe.skipIf(missingPeer('s3cmd', existsSync(S3CMD)))('s3cmd over HTTPS', () => {
  it('mb, put, ls, get, del with ca_certs_file', async () => {
    const home = tempDir('https-s3cmd');
    const config = join(home, 's3cfg');
    writeFileSync(config, ['[default]', `access_key = ${server.accessKeyId}`, `secret_key = ${server.secretAccessKey}`, `host_base = 127.0.0.1:${server.tlsPort!}`, `host_bucket = 127.0.0.1:${server.tlsPort!}`,
      'bucket_location = us-east-1', 'use_https = True', 'check_ssl_certificate = True', `ca_certs_file = ${ca.caFile}`, 'signature_v2 = False', ''].join('\n'));
    const s3cmd = async (...args: string[]) => (await mustRun(S3CMD, ['-c', config, '--no-progress', ...args], { env: peerEnv(server, home), cwd: work, timeoutMs: 120_000 })).stdout;
    try {
      expect(await s3cmd('mb', 's3://s3cmd')).toContain("Bucket 's3://s3cmd/' created");
      writeFileSync(join(work, 's3cmd.txt'), 'hello s3cmd tls\n');
      await s3cmd('put', join(work, 's3cmd.txt'), 's3://s3cmd/s3cmd.txt');
      expect(await s3cmd('ls', 's3://s3cmd/')).toContain('s3://s3cmd/s3cmd.txt');
      await s3cmd('get', '--force', 's3://s3cmd/s3cmd.txt', join(work, 's3cmd.back.txt'));
      expect(readFileSync(join(work, 's3cmd.back.txt'), 'utf8')).toBe('hello s3cmd tls\n');
      await s3cmd('del', 's3://s3cmd/s3cmd.txt');
      expect(await s3cmd('ls', 's3://s3cmd/')).toBe('');
    } finally {
      removeDir(home);
    }
  }, 120_000);
});

describe.skipIf(missingPeer('rclone', existsSync(RCLONE)))('rclone over HTTPS', () => {
  it('copy up, check, lsjson, copy down, delete with --ca-cert', async () => {
    const home = tempDir('https-rclone');
    const env = {
      ...peerEnv(server, home),
      RCLONE_CONFIG: join(home, 'rclone.conf'), RCLONE_CONFIG_OFF_TYPE: 's3', RCLONE_CONFIG_OFF_PROVIDER: 'Other', RCLONE_CONFIG_OFF_ENDPOINT: endpoint,
      RCLONE_CONFIG_OFF_ACCESS_KEY_ID: server.accessKeyId, RCLONE_CONFIG_OFF_SECRET_ACCESS_KEY: server.secretAccessKey, RCLONE_CONFIG_OFF_REGION: server.region, RCLONE_CONFIG_OFF_FORCE_PATH_STYLE: 'true',
    };
    const rclone = async (...args: string[]) => (await mustRun(RCLONE, ['--retries', '1', '--low-level-retries', '1', '--ca-cert', ca.caFile, ...args], { env, cwd: work, timeoutMs: 120_000 })).stdout;
    try {
      const src = tempDir('https-rclone-src');
      writeFileSync(join(src, 'one.txt'), 'one\n');
      const big = bigFile(src, 'big.bin', 9 * 1024 * 1024);
      await rclone('mkdir', 'off:rclone');
      await rclone('copy', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', src, 'off:rclone/site');
      await rclone('check', src, 'off:rclone/site');
      const listing = JSON.parse(await rclone('lsjson', '-R', 'off:rclone/site')) as { Path: string; Size: number }[];
      expect(listing.map((e) => [e.Path, e.Size]).sort()).toEqual([['big.bin', big.data.length], ['one.txt', 4]]);
      const back = tempDir('https-rclone-back');
      await rclone('copy', 'off:rclone/site', back);
      expect(md5(readFileSync(join(back, 'big.bin')))).toBe(md5(big.data));
      await rclone('delete', 'off:rclone/site');
      expect(JSON.parse(await rclone('lsjson', '-R', 'off:rclone'))).toEqual([]);
      removeDir(src);
      removeDir(back);
    } finally {
      removeDir(home);
    }
  }, 120_000);
});
