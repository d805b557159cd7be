/**
 * boto3 against `offload serve`: Debian's python3 with its boto3 1.26, and the python3 on PATH
 * (pyenv here) when it has a different, newer boto3 that sends default checksums. The newer one
 * goes through a local TLS front, the only way botocore streams aws-chunked bodies with trailers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeer } from '../helpers/require-peer.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { findOnPath, removeDir, run, startTlsFront, tempDir, type TlsFront } from '../helpers/peers.js';

const SCRIPT = String.raw`
import io, json, os, urllib.error, urllib.request
import boto3, botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

bucket, work = os.environ['BUCKET'], os.environ['WORK']
cfg = Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}, signature_version='s3v4')
s3 = boto3.client('s3', endpoint_url=os.environ['ENDPOINT'], verify=os.environ.get('CA') or True, config=cfg)
plain = boto3.client('s3', endpoint_url=os.environ['PLAIN_ENDPOINT'], config=cfg)
out = {'boto3': boto3.__version__}

s3.create_bucket(Bucket=bucket)
r = s3.put_object(Bucket=bucket, Key='hello.txt', Body=b'hello boto3', ContentType='text/plain', Metadata={'origin': 'py'})
out['put_etag'] = r['ETag']
g = s3.get_object(Bucket=bucket, Key='hello.txt')
out['get'] = {'body': g['Body'].read().decode(), 'type': g['ContentType'], 'meta': g['Metadata'], 'length': g['ContentLength']}
h = s3.head_object(Bucket=bucket, Key='hello.txt', ChecksumMode='ENABLED')
out['crc32'] = h.get('ChecksumCRC32')

for k in [' lead.txt', 'trail.txt ']:
    s3.put_object(Bucket=bucket, Key=k, Body=b'whitespace is part of the key')
for k in ['a/1.txt', 'a/2.txt', 'a/sub/3.txt', 'b/4.txt', 'c.txt', 'd e.txt', 'ü+%.txt']:
    s3.put_object(Bucket=bucket, Key='tree/' + k, Body=k.encode())
pages, token = [], None
while True:
    kw = {'Bucket': bucket, 'Prefix': 'tree/', 'Delimiter': '/', 'MaxKeys': 2}
    if token:
        kw['ContinuationToken'] = token
    r = s3.list_objects_v2(**kw)
    pages.append({'keys': [o['Key'] for o in r.get('Contents', [])], 'prefixes': [p['Prefix'] for p in r.get('CommonPrefixes', [])],
                  'count': r['KeyCount'], 'truncated': r['IsTruncated']})
    if not r['IsTruncated']:
        break
    token = r['NextContinuationToken']
out['pages'] = pages
paginator = s3.get_paginator('list_objects_v2')
out['all'] = [o['Key'] for p in paginator.paginate(Bucket=bucket, Prefix='tree/', PaginationConfig={'PageSize': 3}) for o in p.get('Contents', [])]

data = os.urandom(12 * 1024 * 1024)
path = os.path.join(work, 'big.bin')
with open(path, 'wb') as f:
    f.write(data)
s3.upload_file(path, bucket, 'big.bin', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
h = s3.head_object(Bucket=bucket, Key='big.bin')
buf = io.BytesIO()
s3.download_fileobj(bucket, 'big.bin', buf)
out['big'] = {'etag': h['ETag'], 'length': h['ContentLength'], 'equal': buf.getvalue() == data}

# Low-level multipart with SHA256 part checksums; one more upload is listed and aborted.
import base64, hashlib
mpu = s3.create_multipart_upload(Bucket=bucket, Key='mp.bin', ChecksumAlgorithm='SHA256')
chunks = [data[:5 * 1024 * 1024], data[5 * 1024 * 1024:5 * 1024 * 1024 + 1000]]
done = []
for n, chunk in enumerate(chunks, 1):
    r = s3.upload_part(Bucket=bucket, Key='mp.bin', UploadId=mpu['UploadId'], PartNumber=n, Body=chunk, ChecksumAlgorithm='SHA256')
    done.append({'PartNumber': n, 'ETag': r['ETag'], 'ChecksumSHA256': r['ChecksumSHA256']})
other = s3.create_multipart_upload(Bucket=bucket, Key='abandoned.bin')
listed = s3.list_multipart_uploads(Bucket=bucket)
parts = s3.list_parts(Bucket=bucket, Key='mp.bin', UploadId=mpu['UploadId'])
s3.abort_multipart_upload(Bucket=bucket, Key='abandoned.bin', UploadId=other['UploadId'])
c = s3.complete_multipart_upload(Bucket=bucket, Key='mp.bin', UploadId=mpu['UploadId'], MultipartUpload={'Parts': done})
h = s3.head_object(Bucket=bucket, Key='mp.bin', ChecksumMode='ENABLED')
composite = base64.b64encode(hashlib.sha256(b''.join(hashlib.sha256(x).digest() for x in chunks)).digest()).decode() + '-2'
out['mpu'] = {'uploads': sorted(u['Key'] for u in listed.get('Uploads', [])), 'parts': [[p['PartNumber'], p['Size']] for p in parts['Parts']],
              'part_sums_ok': [p['ChecksumSHA256'] for p in done] == [base64.b64encode(hashlib.sha256(x).digest()).decode() for x in chunks],
              'complete_sum': c.get('ChecksumSHA256'), 'head_sum': h.get('ChecksumSHA256'), 'expected_sum': composite, 'length': h['ContentLength'],
              'left': len(s3.list_multipart_uploads(Bucket=bucket).get('Uploads', [])),
              'initiator': [parts['Initiator'] == parts['Owner']] + [u['Initiator'] == u['Owner'] for u in listed['Uploads']]}

url = plain.generate_presigned_url('get_object', Params={'Bucket': bucket, 'Key': 'hello.txt'}, ExpiresIn=300)
with urllib.request.urlopen(url) as resp:
    out['presigned_get'] = {'status': resp.status, 'body': resp.read().decode()}
url = plain.generate_presigned_url('put_object', Params={'Bucket': bucket, 'Key': 'put.txt'}, ExpiresIn=300)
with urllib.request.urlopen(urllib.request.Request(url, data=b'presigned put', method='PUT')) as resp:
    out['presigned_put'] = resp.status
out['put_back'] = s3.get_object(Bucket=bucket, Key='put.txt')['Body'].read().decode()
try:
    urllib.request.urlopen(url.replace('X-Amz-Signature=', 'X-Amz-Signature=0'))
    out['tampered'] = 200
except urllib.error.HTTPError as e:
    out['tampered'] = e.code

try:
    s3.head_object(Bucket=bucket, Key='missing')
    out['head_missing'] = None
except ClientError as e:
    out['head_missing'] = [e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Code']]
try:
    s3.get_object(Bucket=bucket, Key='missing')
    out['get_missing'] = None
except ClientError as e:
    out['get_missing'] = [e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Code']]

keys = [o['Key'] for p in paginator.paginate(Bucket=bucket) for o in p.get('Contents', [])]
r = s3.delete_objects(Bucket=bucket, Delete={'Objects': [{'Key': k} for k in keys]})
out['deleted'] = sorted(d['Key'] for d in r.get('Deleted', []))
out['delete_errors'] = r.get('Errors', [])
out['left'] = s3.list_objects_v2(Bucket=bucket)['KeyCount']
s3.delete_bucket(Bucket=bucket)
out['buckets'] = [b['Name'] for b in s3.list_buckets()['Buckets']]
print(json.dumps(out))
`;

interface Result {
  boto3: string;
  put_etag: string;
  get: { body: string; type: string; meta: Record<string, string>; length: number };
  crc32: string | null;
  pages: { keys: string[]; prefixes: string[]; count: number; truncated: boolean }[];
  all: string[];
  big: { etag: string; length: number; equal: boolean };
  mpu: Record<string, unknown> & { expected_sum: string };
  presigned_get: { status: number; body: string };
  presigned_put: number;
  put_back: string;
  tampered: number;
  head_missing: [number, string] | null;
  get_missing: [number, string] | null;
  deleted: string[];
  delete_errors: unknown[];
  left: number;
  buckets: string[];
}

function boto3Version(python: string): string | undefined {
  const r = spawnSync(python, ['-c', 'import boto3; print(boto3.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const DEBIAN = '/usr/bin/python3';
const debianBoto3 = boto3Version(DEBIAN);
const pathPython = findOnPath('python3', ['-c', 'import boto3'], /^$/);
const pathBoto3 = pathPython ? boto3Version(pathPython) : undefined;

let server: TestServer;
let home: string;
let tls: TlsFront | undefined;

beforeAll(async () => {
  server = await startServer();
  home = tempDir('boto3-home');
});
afterAll(async () => {
  await tls?.close();
  await server?.stop();
  removeDir(home);
});

const variants = [
  // Debian's boto3 is the one CI needs; the one on PATH runs when it is another version.
  { name: `Debian python3 (boto3 ${debianBoto3 ?? 'missing'})`, python: DEBIAN, version: debianBoto3, viaTls: false, required: true },
  { name: `python3 on PATH (boto3 ${pathBoto3 ?? 'missing'})`, python: pathPython, version: pathBoto3 !== debianBoto3 ? pathBoto3 : undefined, viaTls: true, required: false },
];

describe.each(variants)('$name', ({ python, version, viaTls, required }) => {
  it.skipIf(required ? missingPeer('Debian python3 with boto3', python && version) : !python || !version)('runs the whole bucket and object workflow', async () => {
    const work = tempDir('boto3-work');
    try {
      const bucket = `boto3-${version!.replace(/\./g, '-')}`;
      const script = join(work, 'scenario.py');
      writeFileSync(script, SCRIPT);
      let endpoint = server.endpoint;
      const env: NodeJS.ProcessEnv = { ...peerEnv(server, home), BUCKET: bucket, WORK: work, PLAIN_ENDPOINT: server.endpoint, AWS_CONFIG_FILE: join(home, 'none') };
      if (viaTls) {
        tls ??= await startTlsFront(server.port, home);
        endpoint = tls.endpoint;
        env.CA = tls.caFile;
      }
      const r = await run(python!, [script], { env: { ...env, ENDPOINT: endpoint }, cwd: work, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Result;
      expect(out.boto3).toBe(version);

      expect(out.put_etag).toBe(`"${createHash('md5').update('hello boto3').digest('hex')}"`);
      expect(out.get).toEqual({ body: 'hello boto3', type: 'text/plain', meta: { origin: 'py' }, length: 11 });
      // boto3 >= 1.36 computes a CRC32 for every upload by default; the server keeps and returns it.
      if (Number(version!.split('.')[1]) >= 36) {
        const { crc32 } = await import('node:zlib');
        const expected = Buffer.alloc(4);
        expected.writeUInt32BE(crc32('hello boto3'));
        expect(out.crc32).toBe(expected.toString('base64'));
      }

      expect(out.pages).toEqual([
        { keys: [], prefixes: ['tree/a/', 'tree/b/'], count: 2, truncated: true },
        { keys: ['tree/c.txt', 'tree/d e.txt'], prefixes: [], count: 2, truncated: true },
        { keys: ['tree/ü+%.txt'], prefixes: [], count: 1, truncated: false },
      ]);
      expect(out.all).toEqual(['tree/a/1.txt', 'tree/a/2.txt', 'tree/a/sub/3.txt', 'tree/b/4.txt', 'tree/c.txt', 'tree/d e.txt', 'tree/ü+%.txt']);

      expect(out.big).toEqual({ etag: expect.stringMatching(/^"[0-9a-f]{32}-3"$/) as unknown, length: 12 * 1024 * 1024, equal: true });
      expect(out.mpu).toEqual({
        uploads: ['abandoned.bin', 'mp.bin'], parts: [[1, 5 * 1024 * 1024], [2, 1000]], part_sums_ok: true,
        complete_sum: out.mpu.expected_sum, head_sum: out.mpu.expected_sum, expected_sum: expect.stringMatching(/=-2$/) as unknown, length: 5 * 1024 * 1024 + 1000, left: 0, initiator: [true, true, true],
      });
      expect(out.presigned_get).toEqual({ status: 200, body: 'hello boto3' });
      expect(out.presigned_put).toBe(200);
      expect(out.put_back).toBe('presigned put');
      expect(out.tampered).toBe(403);
      expect(out.head_missing).toEqual([404, '404']);
      expect(out.get_missing).toEqual([404, 'NoSuchKey']);

      // Leading and trailing spaces in keys survive the DeleteObjects XML body.
      expect(out.deleted).toEqual([' lead.txt', 'big.bin', 'hello.txt', 'mp.bin', 'put.txt', 'trail.txt ', ...out.all].sort());
      expect(out.delete_errors).toEqual([]);
      expect(out.left).toBe(0);
      expect(out.buckets).not.toContain(bucket);
    } finally {
      removeDir(work);
    }
  });
});
