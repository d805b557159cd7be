/** `offload sync --sse AES256` and `--sse-c-key-file`: the upload tool's encrypted uploads, against the real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3ServiceException } from '@aws-sdk/client-s3';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { removeDir, tempDir } from '../helpers/peers.js';
import { customerKey, filesContaining, markedBody, masterKeyFile } from './sse-helpers.js';

const MARKER = 'SYNC-PLAINTEXT-MARKER-5d1e';

describe('offload sync with encryption', () => {
  let server: TestServer;
  let work: string;
  const sync = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'sync', ...args, '--no-state', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region },
    });

  beforeAll(async () => {
    server = await startServer({ args: ['--master-key-file', masterKeyFile()] });
    work = tempDir('offload-sse-sync-');
    mkdirSync(join(work, 'site'));
    writeFileSync(join(work, 'site', 'small.txt'), markedBody(MARKER, 2000));
    writeFileSync(join(work, 'site', 'big.bin'), markedBody(MARKER, 9 * 1024 * 1024));
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(work);
  });

  it('--sse AES256 uploads SSE-S3 objects (single and multipart), and a rerun uploads nothing', async () => {
    expect(spawnSync(process.execPath, [CLI, 'mb', 's3://synced'], { env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region } }).status).toBe(0);
    const first = sync(join(work, 'site'), 's3://synced', '--sse', 'AES256');
    expect(first.status, first.stderr).toBe(0);
    const s3 = sdkClient(server);
    for (const key of ['small.txt', 'big.bin']) expect((await s3.send(new HeadObjectCommand({ Bucket: 'synced', Key: key }))).ServerSideEncryption).toBe('AES256');
    const again = sync(join(work, 'site'), 's3://synced', '--sse', 'AES256');
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/"op":"upload"/);
  });

  it('--sse-c-key-file uploads SSE-C objects that need the key to read', async () => {
    const k = customerKey();
    writeFileSync(join(work, 'customer.key'), k.key, { mode: 0o600 });
    spawnSync(process.execPath, [CLI, 'mb', 's3://synced-c'], { env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region } });
    const r = sync(join(work, 'site'), 's3://synced-c', '--sse-c-key-file', join(work, 'customer.key'));
    expect(r.status, r.stderr).toBe(0);
    const s3 = sdkClient(server);
    const err = await s3.send(new GetObjectCommand({ Bucket: 'synced-c', Key: 'big.bin' })).catch((e: unknown) => e);
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(400);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'synced-c', Key: 'small.txt', SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64, SSECustomerKeyMD5: k.md5 }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(markedBody(MARKER, 2000))).toBe(true);
    expect(filesContaining(server.dataDir, MARKER)).toEqual([]);
  });
});
