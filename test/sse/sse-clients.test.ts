/**
 * Encryption at rest with real clients: boto3 (Debian's python3) and the AWS CLI, each doing a
 * single PUT, a multipart upload, a ranged GET and a copy that changes the key, SSE-S3 and SSE-C.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingPeer } from '../helpers/require-peer.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { bigFile, mustRun, removeDir, run, tempDir } from '../helpers/peers.js';
import { customerKey, filesContaining, markedBody, masterKeyFile } from './sse-helpers.js';

const MARKER = 'CLIENT-PLAINTEXT-MARKER-91c2';
const PYTHON = '/usr/bin/python3';
const AWS = '/usr/bin/aws';

const SCRIPT = String.raw`
import os, json, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
cfg = Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}, signature_version='s3v4')
s3 = boto3.client('s3', endpoint_url=os.environ['ENDPOINT'], config=cfg)
b, work = 'boto-sse', os.environ['WORK']
data = open(os.path.join(work, 'marked.bin'), 'rb').read()
ka, kb = bytes.fromhex(os.environ['KEY_A']), bytes.fromhex(os.environ['KEY_B'])
A = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': ka}
B = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': kb}
out = {}
s3.create_bucket(Bucket=b)
r = s3.put_object(Bucket=b, Key='s3', Body=data, ServerSideEncryption='AES256')
out['put_sse'] = r.get('ServerSideEncryption')
g = s3.get_object(Bucket=b, Key='s3', Range='bytes=70000-70099')
out['range_ok'] = g['Body'].read() == data[70000:70100]
out['get_sse'] = g.get('ServerSideEncryption')
s3.put_object(Bucket=b, Key='c', Body=data, **A)
out['c_ok'] = s3.get_object(Bucket=b, Key='c', **A)['Body'].read() == data
try:
    s3.get_object(Bucket=b, Key='c')
    out['c_nokey'] = 200
except ClientError as e:
    out['c_nokey'] = e.response['ResponseMetadata']['HTTPStatusCode']
big = os.path.join(work, 'big.bin')
s3.upload_file(big, b, 'mp', ExtraArgs=A, Config=TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024))
s3.download_file(b, 'mp', os.path.join(work, 'mp.out'), ExtraArgs=A)
out['mp_ok'] = open(os.path.join(work, 'mp.out'), 'rb').read() == open(big, 'rb').read()
s3.copy_object(Bucket=b, Key='c2', CopySource={'Bucket': b, 'Key': 'c'}, CopySourceSSECustomerAlgorithm='AES256', CopySourceSSECustomerKey=ka, **B)
out['copy_ok'] = s3.get_object(Bucket=b, Key='c2', **B)['Body'].read() == data
try:
    s3.get_object(Bucket=b, Key='c2', **A)
    out['copy_oldkey'] = 200
except ClientError as e:
    out['copy_oldkey'] = e.response['ResponseMetadata']['HTTPStatusCode']
print(json.dumps(out))
`;

describe.skipIf(missingPeer('boto3 and the AWS CLI', existsSync(PYTHON) && existsSync(AWS)))('SSE with boto3 and the AWS CLI', () => {
  let server: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const data = markedBody(MARKER, 200 * 1024 + 11);

  beforeAll(async () => {
    server = await startServer({ args: ['--master-key-file', masterKeyFile()] });
    work = tempDir('offload-sse-clients-');
    env = { ...peerEnv(server, work), ENDPOINT: server.endpoint, WORK: work };
    writeFileSync(join(work, 'marked.bin'), data);
    const big = bigFile(work, 'big.bin', 11 * 1024 * 1024);
    writeFileSync(big.path, markedBody(MARKER, big.data.length));
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(work);
  });

  it('boto3: SSE-S3 PUT and ranged GET, SSE-C PUT/GET, multipart, copy with a key change', async () => {
    const [a, b] = [customerKey(), customerKey()];
    const r = await mustRun(PYTHON, ['-c', SCRIPT], { env: { ...env, KEY_A: a.key.toString('hex'), KEY_B: b.key.toString('hex') }, timeoutMs: 120_000 });
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ put_sse: 'AES256', range_ok: true, get_sse: 'AES256', c_ok: true, c_nokey: 400, mp_ok: true, copy_ok: true, copy_oldkey: 400 });
  });

  it('the AWS CLI: cp --sse AES256, --sse-c (multipart), a ranged get-object, a copy to another key', async () => {
    const a = customerKey();
    const b = customerKey();
    writeFileSync(join(work, 'a.key'), a.key);
    writeFileSync(join(work, 'b.key'), b.key);
    const aws = (...args: string[]) => mustRun(AWS, ['--endpoint-url', server.endpoint, ...args], { env, timeoutMs: 120_000 });
    await aws('s3', 'mb', 's3://cli-sse');
    await aws('s3', 'cp', join(work, 'marked.bin'), 's3://cli-sse/s3.bin', '--sse', 'AES256');
    const head = JSON.parse((await aws('s3api', 'head-object', '--bucket', 'cli-sse', '--key', 's3.bin')).stdout) as { ServerSideEncryption?: string };
    expect(head.ServerSideEncryption).toBe('AES256');
    await aws('s3api', 'get-object', '--bucket', 'cli-sse', '--key', 's3.bin', '--range', 'bytes=65000-70000', join(work, 'range.out'));
    expect(readFileSync(join(work, 'range.out')).equals(data.subarray(65000, 70001))).toBe(true);
    const sseA = ['--sse-c', 'AES256', '--sse-c-key', `fileb://${join(work, 'a.key')}`];
    await aws('s3', 'cp', join(work, 'big.bin'), 's3://cli-sse/big.bin', ...sseA);
    await aws('s3', 'cp', 's3://cli-sse/big.bin', join(work, 'big.out'), ...sseA);
    expect(readFileSync(join(work, 'big.out')).equals(readFileSync(join(work, 'big.bin')))).toBe(true);
    const nokey = await run(AWS, ['--endpoint-url', server.endpoint, 's3', 'cp', 's3://cli-sse/big.bin', join(work, 'nokey.out')], { env });
    expect(nokey.code).not.toBe(0);
    await aws('s3', 'cp', 's3://cli-sse/big.bin', 's3://cli-sse/big-b.bin', '--sse-c-copy-source', 'AES256', '--sse-c-copy-source-key', `fileb://${join(work, 'a.key')}`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${join(work, 'b.key')}`);
    await aws('s3', 'cp', 's3://cli-sse/big-b.bin', join(work, 'big-b.out'), '--sse-c', 'AES256', '--sse-c-key', `fileb://${join(work, 'b.key')}`);
    expect(readFileSync(join(work, 'big-b.out')).equals(readFileSync(join(work, 'big.bin')))).toBe(true);
  });

  it('no plaintext from either client reached the data folder', () => {
    expect(filesContaining(server.dataDir, MARKER)).toEqual([]);
  });
});
