/**
 * The versioning commands: mb --versioning, bucket versioning, versions, restore --version-id
 * (the top-level --version flag must not swallow it) and its undelete alias.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { peerEnv, sdkClient } from '../helpers/clients.js';
import { mustRun, removeDir, run, tempDir } from '../helpers/peers.js';

describe('versioning commands', () => {
  let server: TestServer;
  let s3: S3Client;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const offload = (...args: string[]) => mustRun(process.execPath, [CLI, ...args], { env, timeoutMs: 60_000 });
  beforeAll(async () => {
    server = await startServer();
    s3 = sdkClient(server);
    home = tempDir('versioning-cli');
    env = { ...peerEnv(server, home), AWS_ENDPOINT_URL: server.endpoint };
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
    removeDir(home);
  });

  it('turns versioning on and off, lists versions and restores one', async () => {
    await offload('mb', 's3://cli-v');
    expect((await offload('bucket', 'versioning', 's3://cli-v', 'status')).stdout).toContain('never enabled');
    expect((await offload('bucket', 'versioning', 's3://cli-v', 'on')).stdout).toContain('versioning enabled');
    const first = (await s3.send(new PutObjectCommand({ Bucket: 'cli-v', Key: 'logo.svg', Body: '<svg>1</svg>' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'cli-v', Key: 'logo.svg', Body: '<svg>two</svg>' }));
    const listed = (await offload('versions', 's3://cli-v/logo.svg', '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { versionId: string; latest: boolean; size: number });
    expect(listed.map((v) => [v.latest, v.size])).toEqual([[true, 14], [false, 12]]);
    expect(listed[1]!.versionId).toBe(first);

    const restored = await offload('restore', 's3://cli-v/logo.svg', '--version-id', first);
    expect(restored.stdout).toContain(`version ${first} is current again`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'cli-v', Key: 'logo.svg' }));
    expect(await got.Body!.transformToString()).toBe('<svg>1</svg>');

    await offload('rm', 's3://cli-v/logo.svg');
    expect((await offload('undelete', 's3://cli-v/logo.svg')).stdout).toContain('removed delete marker');
    const none = await run(process.execPath, [CLI, 'restore', 's3://cli-v/logo.svg', '--version-id', 'no-such-version'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no version no-such-version');
    expect((await offload('bucket', 'versioning', 's3://cli-v', 'suspend')).stdout).toContain('versioning suspended');
    const bad = await run(process.execPath, [CLI, 'bucket', 'versioning', 's3://cli-v', 'maybe'], { env });
    expect(bad.code).toBe(2);
  });
});
