/**
 * Small objects live in the database (inline_blobs), bigger ones in blob files. Whatever path an
 * object takes (put, copy, overwrite across the limit, ranges, multipart parts copied from it,
 * delete), clients see the same bytes, and nothing is left behind once the last reference goes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { INLINE_LIMIT } from '../../src/storage/blobs.js';

let server: TestServer;
let s3: S3Client;
const Bucket = 'inline';

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
});

const bytesOf = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

async function get(Key: string, Range?: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket, Key, Range }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

function blobFiles(): number {
  const walk = (dir: string): number => readdirSync(dir).reduce((n, name) => n + (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : 1), 0);
  return walk(join(server.dataDir, 'blobs'));
}

function inlineRows(): number {
  const db = new Database(join(server.dataDir, 'meta.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM inline_blobs').pluck().get() as number;
  } finally {
    db.close();
  }
}

it('keeps objects up to the limit in the database and bigger ones in files', async () => {
  const small = bytesOf(1000, 1);
  const atLimit = bytesOf(INLINE_LIMIT, 2);
  const over = bytesOf(INLINE_LIMIT + 1, 3);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'small', Body: small }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'at-limit', Body: atLimit }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'over', Body: over }));
  expect(inlineRows()).toBe(2);
  expect(blobFiles()).toBe(1);
  expect((await get('small')).equals(small)).toBe(true);
  expect((await get('at-limit')).equals(atLimit)).toBe(true);
  expect((await get('over')).equals(over)).toBe(true);
  expect((await get('at-limit', 'bytes=100-199')).equals(atLimit.subarray(100, 200))).toBe(true);
  expect((await get('at-limit', 'bytes=-10')).equals(atLimit.subarray(-10))).toBe(true);
});

it('moves an object between the database and a file as it is overwritten, leaving nothing behind', async () => {
  const versions = [bytesOf(500, 4), bytesOf(INLINE_LIMIT * 2, 5), bytesOf(700, 6), bytesOf(300_000, 7), bytesOf(10, 8)];
  for (const body of versions) {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'moving', Body: body }));
    expect((await get('moving')).equals(body)).toBe(true);
  }
  // small, at-limit, over (previous test) + moving's last version, which is small.
  expect(inlineRows()).toBe(3);
  expect(blobFiles()).toBe(1);
});

it('shares an inline blob between copies and multipart parts, and frees it with the last reference', async () => {
  const body = bytesOf(5000, 9);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'source', Body: body }));
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/source` }));
  const rowsWithBoth = inlineRows();
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'source' }));
  expect((await get('copy')).equals(body)).toBe(true);
  expect(inlineRows()).toBe(rowsWithBoth);

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'assembled' }));
  const big = bytesOf(5 * 1024 * 1024, 10);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'big', Body: big }));
  const p1 = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'assembled', UploadId, PartNumber: 1, CopySource: `${Bucket}/big` }));
  const p2 = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'assembled', UploadId, PartNumber: 2, CopySource: `${Bucket}/copy`, CopySourceRange: 'bytes=1000-3999' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'assembled', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] } }));
  expect((await get('assembled')).equals(Buffer.concat([big, body.subarray(1000, 4000)]))).toBe(true);

  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'copy' }));
  expect(inlineRows()).toBe(rowsWithBoth - 1);
  expect((await get('assembled', 'bytes=5242880-5245879')).equals(body.subarray(1000, 4000))).toBe(true);
});

it('survives a restart with inline objects intact', async () => {
  const body = bytesOf(20_000, 11);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'kept', Body: body }));
  await server.stop({ keepData: true });
  server = await startServer({ dataDir: server.dataDir });
  s3.destroy();
  s3 = sdkClient(server);
  expect((await get('kept')).equals(body)).toBe(true);
});
