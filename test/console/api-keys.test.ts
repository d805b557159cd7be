/**
 * Key scopes: `offload keys create --bucket B --read-only|--read-write`, enforced for S3 requests
 * (the AWS SDK) and for console calls alike; and the console's key management (root only).
 */
import { execFileSync } from 'node:child_process';
import type { S3Client } from '@aws-sdk/client-s3';
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { errorCode, signedIn, startConsoleServer, type ConsoleClient, type ConsoleServer } from './api-client.js';

let server: ConsoleServer;
let admin: S3Client;
let root: ConsoleClient;

function createKeyWithCli(name: string, flags: string[]): { accessKeyId: string; secretAccessKey: string; output: string } {
  const output = execFileSync(process.execPath, [CLI, 'keys', 'create', name, '--data', server.dataDir, ...flags], { encoding: 'utf8' });
  return { accessKeyId: /Access key: (\S+)/.exec(output)![1]!, secretAccessKey: /Secret key: (\S+)/.exec(output)![1]!, output };
}

async function refused(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.$metadata?.httpStatusCode} ${e.name}`;
  }
}

beforeAll(async () => {
  server = await startConsoleServer();
  admin = sdkClient(server);
  for (const bucket of ['bucket-a', 'bucket-b']) {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'file.txt', Body: `in ${bucket}` }));
  }
  root = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
}, 30_000);
afterAll(async () => {
  admin?.destroy();
  await server?.stop();
});

describe('key scopes over S3 (AWS SDK)', () => {
  it('a read-only key scoped to bucket A reads A, and cannot PUT or DELETE in A, read B or make buckets', async () => {
    const key = createKeyWithCli('reader', ['--bucket', 'bucket-a', '--read-only']);
    expect(key.output).toContain('Scope:      read-only, bucket bucket-a only');
    const reader = sdkClient(server, { credentials: key });
    try {
      const got = await reader.send(new GetObjectCommand({ Bucket: 'bucket-a', Key: 'file.txt' }));
      expect(await got.Body!.transformToString()).toBe('in bucket-a');
      expect((await reader.send(new ListObjectsV2Command({ Bucket: 'bucket-a' }))).Contents?.map((c) => c.Key)).toEqual(['file.txt']);
      expect((await reader.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['bucket-a']);
      expect(await refused(reader.send(new PutObjectCommand({ Bucket: 'bucket-a', Key: 'new.txt', Body: 'x' })))).toBe('403 AccessDenied');
      expect(await refused(reader.send(new DeleteObjectCommand({ Bucket: 'bucket-a', Key: 'file.txt' })))).toBe('403 AccessDenied');
      expect(await refused(reader.send(new GetObjectCommand({ Bucket: 'bucket-b', Key: 'file.txt' })))).toBe('403 AccessDenied');
      expect(await refused(reader.send(new ListObjectsV2Command({ Bucket: 'bucket-b' })))).toBe('403 AccessDenied');
      expect(await refused(reader.send(new CreateBucketCommand({ Bucket: 'reader-bucket' })))).toBe('403 AccessDenied');
      expect(await refused(reader.send(new CopyObjectCommand({ Bucket: 'bucket-a', Key: 'copy.txt', CopySource: 'bucket-b/file.txt' })))).toBe('403 AccessDenied');
    } finally {
      reader.destroy();
    }
    // The object is still there, and the server still answers.
    expect((await admin.send(new GetObjectCommand({ Bucket: 'bucket-a', Key: 'file.txt' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('a read-write key scoped to bucket A writes objects in A, but cannot change A\'s settings or touch B', async () => {
    const writer = sdkClient(server, { credentials: createKeyWithCli('writer', ['--bucket', 'bucket-a', '--read-write']) });
    try {
      await writer.send(new PutObjectCommand({ Bucket: 'bucket-a', Key: 'written.txt', Body: 'w' }));
      await writer.send(new CopyObjectCommand({ Bucket: 'bucket-a', Key: 'copied.txt', CopySource: 'bucket-a/written.txt' }));
      await writer.send(new DeleteObjectCommand({ Bucket: 'bucket-a', Key: 'copied.txt' }));
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket-a/*' }] });
      expect(await refused(writer.send(new PutBucketPolicyCommand({ Bucket: 'bucket-a', Policy: policy })))).toBe('403 AccessDenied');
      expect(await refused(writer.send(new PutObjectCommand({ Bucket: 'bucket-b', Key: 'w.txt', Body: 'w' })))).toBe('403 AccessDenied');
    } finally {
      writer.destroy();
    }
  });

  it('a read-only key without a bucket cannot write even in its own bucket', async () => {
    const owner = sdkClient(server, { credentials: createKeyWithCli('own-reader', ['--read-only']) });
    try {
      expect(await refused(owner.send(new CreateBucketCommand({ Bucket: 'own-bucket' })))).toBe('403 AccessDenied');
    } finally {
      owner.destroy();
    }
  });

  it('lists scopes with offload keys list --json', () => {
    const lines = execFileSync(process.execPath, [CLI, 'keys', 'list', '--json', '--data', server.dataDir], { encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l) as { name: string; scope: unknown });
    expect(lines.find((k) => k.name === 'reader')?.scope).toEqual({ bucket: 'bucket-a', access: 'read' });
    expect(lines.find((k) => k.name === 'writer')?.scope).toEqual({ bucket: 'bucket-a', access: 'readwrite' });
  });
});

describe('keys in the console', () => {
  it('root creates a scoped key (secret shown once), which signs in and is refused a delete with 403', async () => {
    const made = await root.json<{ accessKeyId: string; secretAccessKey: string; scope: unknown; name: string }>('POST', '/keys', { json: { name: 'site reader', bucket: 'bucket-a', access: 'read' } });
    expect(made.status).toBe(201);
    expect(made.body.scope).toEqual({ bucket: 'bucket-a', access: 'read' });
    expect(made.body.secretAccessKey).toMatch(/.{20,}/);
    const list = await root.json<{ keys: Record<string, unknown>[] }>('GET', '/keys');
    const listed = list.body.keys.find((k) => k.accessKeyId === made.body.accessKeyId)!;
    expect(listed).toMatchObject({ name: 'site reader', scope: { bucket: 'bucket-a', access: 'read' } });
    expect(listed).not.toHaveProperty('secretAccessKey');
    const reader = await signedIn(server.consoleOrigin, made.body.accessKeyId, made.body.secretAccessKey);
    const session = await reader.json('GET', '/session');
    expect(session.body).toMatchObject({ isRoot: false, scope: { bucket: 'bucket-a', access: 'read' } });
    const buckets = await reader.json<{ buckets: { name: string }[] }>('GET', '/buckets');
    expect(buckets.body.buckets.map((b) => b.name)).toEqual(['bucket-a']);
    expect((await reader.json('GET', '/buckets/bucket-a/objects')).status).toBe(200);
    const del = await reader.json('POST', '/buckets/bucket-a/delete', { json: { keys: ['file.txt'] } });
    expect(del.status).toBe(403);
    expect(errorCode(del.body)).toBe('AccessDenied');
    expect((del.body as { error: { message: string } }).error.message).toBe('This key is read-only.');
    const other = await reader.json('GET', '/buckets/bucket-b/objects');
    expect(other.status).toBe(403);
    expect((other.body as { error: { message: string } }).error.message).toBe('This key is limited to bucket bucket-a.');
    expect((await reader.json('POST', '/keys', { json: { name: 'escalate', access: 'all' } })).status).toBe(403);
    const me = await reader.json('GET', '/keys/me');
    expect(me.body).toMatchObject({ accessKeyId: made.body.accessKeyId, isRoot: false });
    // Deleting the key ends its sessions.
    expect((await root.json('DELETE', `/keys/${made.body.accessKeyId}`)).status).toBe(200);
    expect((await reader.json('GET', '/session')).status).toBe(401);
    expect((await root.json('DELETE', `/keys/${made.body.accessKeyId}`)).status).toBe(404);
  });

  it('refuses a scope on a bucket that does not exist, and an unknown access', async () => {
    expect((await root.json('POST', '/keys', { json: { name: 'k', bucket: 'no-such-bucket', access: 'read' } })).status).toBe(404);
    expect((await root.json('POST', '/keys', { json: { name: 'k', access: 'admin' } })).status).toBe(400);
  });
});
