/**
 * Versioning with real clients: boto3 (Debian's python3) and the AWS CLI turn versioning on,
 * overwrite, delete, list versions and restore; rclone lists versions with --s3-versions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { missingPeer } from '../helpers/require-peer.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { mustRun, removeDir, tempDir, writeTree } from '../helpers/peers.js';

const PYTHON = '/usr/bin/python3';
const AWS = '/usr/bin/aws';
const RCLONE = '/usr/bin/rclone';

const BOTO3 = String.raw`
import json, os, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client('s3', endpoint_url=os.environ['ENDPOINT'], config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
b = 'boto-versions'
out = {}
s3.create_bucket(Bucket=b)
s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
out['status'] = s3.get_bucket_versioning(Bucket=b)['Status']
ids = [s3.put_object(Bucket=b, Key='logo.png', Body=('v%d' % i).encode())['VersionId'] for i in range(3)]
out['distinct'] = len(set(ids))
out['old'] = s3.get_object(Bucket=b, Key='logo.png', VersionId=ids[0])['Body'].read().decode()
d = s3.delete_object(Bucket=b, Key='logo.png')
out['marker'] = d.get('DeleteMarker')
try:
    s3.get_object(Bucket=b, Key='logo.png')
except ClientError as e:
    out['after_delete'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPHeaders'].get('x-amz-delete-marker')]
try:
    s3.head_object(Bucket=b, Key='logo.png', VersionId=d['VersionId'])
except ClientError as e:
    out['head_marker'] = e.response['ResponseMetadata']['HTTPStatusCode']
v = s3.list_object_versions(Bucket=b)
out['versions'] = [[x['VersionId'] == ids[2 - i], x['IsLatest']] for i, x in enumerate(v['Versions'])]
out['markers'] = [[m['VersionId'] == d['VersionId'], m['IsLatest']] for m in v['DeleteMarkers']]
s3.delete_object(Bucket=b, Key='logo.png', VersionId=d['VersionId'])
out['restored'] = s3.get_object(Bucket=b, Key='logo.png')['Body'].read().decode()
r = s3.delete_objects(Bucket=b, Delete={'Objects': [{'Key': 'logo.png', 'VersionId': ids[0]}]})
out['batch'] = [x['VersionId'] == ids[0] for x in r['Deleted']]
out['left'] = len(s3.list_object_versions(Bucket=b)['Versions'])
print(json.dumps(out))
`;

describe.skipIf(missingPeer('python3-boto3', existsSync(PYTHON)))('versioning with boto3, the AWS CLI and rclone', () => {
  let server: TestServer;
  let home: string;
  beforeAll(async () => {
    server = await startServer();
    home = tempDir('versioning-clients');
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(home);
  });

  it('boto3: enable, overwrite, delete, list versions, restore', async () => {
    const { stdout } = await mustRun(PYTHON, ['-c', BOTO3], { env: { ...peerEnv(server, home), ENDPOINT: server.endpoint } });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toEqual({
      status: 'Enabled',
      distinct: 3,
      old: 'v0',
      marker: true,
      after_delete: ['NoSuchKey', 'true'],
      head_marker: 405,
      versions: [[true, false], [true, false], [true, false]],
      markers: [[true, true]],
      restored: 'v2',
      batch: [true],
      left: 2,
    });
    // The server is alive and answers plainly afterwards.
    expect((await fetch(`${server.endpoint}/boto-versions/logo.png`)).status).toBe(403);
  });

  it.skipIf(missingPeer('awscli', existsSync(AWS)))('the AWS CLI: s3api versioning, list-object-versions, restore by copy', async () => {
    const env = peerEnv(server, home);
    const aws = async (...args: string[]) => (await mustRun(AWS, ['--endpoint-url', server.endpoint, ...args], { env, timeoutMs: 60_000 })).stdout;
    await aws('s3', 'mb', 's3://cli-versions');
    await aws('s3api', 'put-bucket-versioning', '--bucket', 'cli-versions', '--versioning-configuration', 'Status=Enabled');
    expect(JSON.parse(await aws('s3api', 'get-bucket-versioning', '--bucket', 'cli-versions'))).toEqual({ Status: 'Enabled' });
    const file = join(writeTree(join(home, 'cli'), { 'a.txt': 'first', 'b.txt': 'second' }), 'a.txt');
    const first = JSON.parse(await aws('s3api', 'put-object', '--bucket', 'cli-versions', '--key', 'doc.txt', '--body', file)) as { VersionId: string };
    await aws('s3api', 'put-object', '--bucket', 'cli-versions', '--key', 'doc.txt', '--body', join(home, 'cli', 'b.txt'));
    await aws('s3', 'rm', 's3://cli-versions/doc.txt');
    const listed = JSON.parse(await aws('s3api', 'list-object-versions', '--bucket', 'cli-versions')) as { Versions: { VersionId: string }[]; DeleteMarkers: { IsLatest: boolean }[] };
    expect(listed.Versions).toHaveLength(2);
    expect(listed.DeleteMarkers.map((m) => m.IsLatest)).toEqual([true]);
    await aws('s3api', 'copy-object', '--bucket', 'cli-versions', '--key', 'doc.txt', '--copy-source', `cli-versions/doc.txt?versionId=${first.VersionId}`);
    await aws('s3', 'cp', 's3://cli-versions/doc.txt', join(home, 'back.txt'));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(home, 'back.txt'), 'utf8')).toBe('first');
  });

  it.skipIf(missingPeer('rclone', existsSync(RCLONE)))('rclone --s3-versions lists old versions beside the current ones', async () => {
    const s3 = (await import('../helpers/clients.js')).sdkClient(server);
    const { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new CreateBucketCommand({ Bucket: 'rclone-versions' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'rclone-versions', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'rclone-versions', Key: 'page.html', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'rclone-versions', Key: 'page.html', Body: 'two!' }));
    s3.destroy();
    const env = {
      ...peerEnv(server, home),
      RCLONE_CONFIG: join(home, 'rclone.conf'),
      RCLONE_CONFIG_OFF_TYPE: 's3',
      RCLONE_CONFIG_OFF_PROVIDER: 'Other',
      RCLONE_CONFIG_OFF_ENDPOINT: server.endpoint,
      RCLONE_CONFIG_OFF_ACCESS_KEY_ID: server.accessKeyId,
      RCLONE_CONFIG_OFF_SECRET_ACCESS_KEY: server.secretAccessKey,
      RCLONE_CONFIG_OFF_REGION: server.region,
    };
    writeTree(home, { 'rclone.conf': '' });
    const { stdout } = await mustRun(RCLONE, ['--retries', '1', 'lsjson', '--s3-versions', 'off:rclone-versions'], { env, timeoutMs: 60_000 });
    const names = (JSON.parse(stdout) as { Path: string; Size: number }[]).map((e) => [e.Path.replace(/-v\d{4}-\d\d-\d\d-\d{6}-\d{3}/, '-vOLD'), e.Size]).sort();
    expect(names).toEqual([['page-vOLD.html', 3], ['page.html', 4]]);
  });
});
