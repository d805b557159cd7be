/**
 * boto3 (Debian's python3-boto3) against two `--meta` nodes with a master key: SSE-S3 PUT and
 * ranged GET, SSE-C PUT/GET, an SSE-C multipart upload (upload_file), a copy that changes the
 * SSE-C key; every write through node A, every read through node B.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerEnv } from '../helpers/clients.js';
import { mustRun } from '../helpers/peers.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { customerKey, filesContaining, markedBody, masterKeyFile } from '../sse/sse-helpers.js';

const PYTHON = '/usr/bin/python3';
const MARKER = 'BOTO3-PG-SSE-MARKER-5a90';

const SCRIPT = String.raw`
import os, json, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
cfg = Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}, signature_version='s3v4')
a = boto3.client('s3', endpoint_url=os.environ['NODE_A'], config=cfg)
b = boto3.client('s3', endpoint_url=os.environ['NODE_B'], config=cfg)
work = os.environ['WORK']
data = open(os.path.join(work, 'marked.bin'), 'rb').read()
ka, kb = bytes.fromhex(os.environ['KEY_A']), bytes.fromhex(os.environ['KEY_B'])
A = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': ka}
B = {'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': kb}
def status(call):
    try:
        call()
        return 200
    except ClientError as e:
        return e.response['ResponseMetadata']['HTTPStatusCode']
out = {}
a.create_bucket(Bucket='vault')
out['put_sse'] = a.put_object(Bucket='vault', Key='s3', Body=data, ServerSideEncryption='AES256').get('ServerSideEncryption')
g = b.get_object(Bucket='vault', Key='s3', Range='bytes=70000-70099')
out['range_ok'] = g['Body'].read() == data[70000:70100]
out['get_sse'] = g.get('ServerSideEncryption')
a.put_object(Bucket='vault', Key='c', Body=data, **A)
out['c_ok'] = b.get_object(Bucket='vault', Key='c', **A)['Body'].read() == data
out['c_nokey'] = status(lambda: b.get_object(Bucket='vault', Key='c'))
out['c_wrongkey'] = status(lambda: b.head_object(Bucket='vault', Key='c', **B))
big = os.path.join(work, 'big.bin')
a.upload_file(big, 'vault', 'mp', ExtraArgs=A, Config=TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024))
b.download_file('vault', 'mp', os.path.join(work, 'mp.out'), ExtraArgs=A)
out['mp_ok'] = open(os.path.join(work, 'mp.out'), 'rb').read() == open(big, 'rb').read()
a.copy_object(Bucket='vault', Key='c2', CopySource={'Bucket': 'vault', 'Key': 'c'}, CopySourceSSECustomerAlgorithm='AES256', CopySourceSSECustomerKey=ka, **B)
out['copy_ok'] = b.get_object(Bucket='vault', Key='c2', **B)['Body'].read() == data
out['copy_oldkey'] = status(lambda: b.get_object(Bucket='vault', Key='c2', **A))
print(json.dumps(out))
`;

const peers = missingPeer('boto3 (python3-boto3)', existsSync(PYTHON)) || missingPeer('postgresql (Debian package)', findPostgresBin());

describe.skipIf(peers)('boto3 through two --meta nodes with encryption at rest', () => {
  let pgServer: TestPostgres;
  let temp: string;
  let nodes: TestServer[];

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'offload-pg-boto3-'));
    pgServer = await startPostgres();
    const key = masterKeyFile(temp);
    const start = (i: number) => startServer({ dataDir: join(temp, `node${i}`), args: ['--meta', pgServer.url, '--blobs', join(temp, 'blobs'), '--master-key-file', key] });
    nodes = [await start(0), await start(1)];
    writeFileSync(join(temp, 'marked.bin'), markedBody(MARKER, 200 * 1024 + 11));
    writeFileSync(join(temp, 'big.bin'), markedBody(MARKER, 11 * 1024 * 1024));
  }, 60_000);
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await pgServer?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('round trips SSE-S3 and SSE-C (single, ranged, multipart, copy with a key change) from A to B; only ciphertext at rest', async () => {
    const [ka, kb] = [customerKey(), customerKey()];
    const env = { ...peerEnv(nodes[0]!, temp), NODE_A: nodes[0]!.endpoint, NODE_B: nodes[1]!.endpoint, WORK: temp, KEY_A: ka.key.toString('hex'), KEY_B: kb.key.toString('hex') };
    const r = await mustRun(PYTHON, ['-c', SCRIPT], { env, timeoutMs: 120_000 });
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ put_sse: 'AES256', range_ok: true, get_sse: 'AES256', c_ok: true, c_nokey: 400, c_wrongkey: 400, mp_ok: true, copy_ok: true, copy_oldkey: 400 });
    expect(filesContaining(join(temp, 'blobs'), MARKER)).toEqual([]);
  }, 120_000);
});
