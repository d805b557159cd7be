/** kill -9 around CompleteMultipartUpload: afterwards each key is either absent or the complete object. */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListMultipartUploadsCommand, UploadPartCommand, type S3ServiceException } from '@aws-sdk/client-s3';
import { startServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

const dataDir = mkdtempSync(join(tmpdir(), 'offload-mpcrash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const part = (key: string, n: number, size: number) => {
  const seed = createHash('sha256').update(`${key}/${n}`).digest();
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  return out;
};

describe('multipart crash safety', () => {
  it('leaves no half-completed object after kill -9 during completion', async () => {
    let server = await startServer({ dataDir });
    let s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'mp-crash' }));
    const keys = Array.from({ length: 8 }, (_, i) => `obj-${i}`);
    const completes: { key: string; uploadId: string; parts: { PartNumber: number; ETag: string }[] }[] = [];
    for (const key of keys) {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mp-crash', Key: key }));
      const p1 = await s3.send(new UploadPartCommand({ Bucket: 'mp-crash', Key: key, UploadId, PartNumber: 1, Body: part(key, 1, 5 * MiB) }));
      const p2 = await s3.send(new UploadPartCommand({ Bucket: 'mp-crash', Key: key, UploadId, PartNumber: 2, Body: part(key, 2, 1234) }));
      completes.push({ key, uploadId: UploadId!, parts: [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }] });
    }
    const inflight = completes.map((c, i) =>
      new Promise((r) => setTimeout(r, i * 3)).then(() => s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mp-crash', Key: c.key, UploadId: c.uploadId, MultipartUpload: { Parts: c.parts } }))),
    );
    // Rejections are expected (the server dies under them); they are examined below.
    for (const p of inflight) p.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 12));
    await server.kill();
    const outcomes = await Promise.allSettled(inflight);
    s3.destroy();

    server = await startServer({ dataDir });
    s3 = sdkClient(server);
    try {
      const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mp-crash' }));
      const pendingKeys = new Set((pending.Uploads ?? []).map((u) => u.Key));
      for (const [i, key] of keys.entries()) {
        const expected = Buffer.concat([part(key, 1, 5 * MiB), part(key, 2, 1234)]);
        try {
          const got = await s3.send(new GetObjectCommand({ Bucket: 'mp-crash', Key: key }));
          expect(Buffer.from(await got.Body!.transformToByteArray()).equals(expected), key).toBe(true);
          expect(pendingKeys.has(key), `${key} completed but its upload remains`).toBe(false);
        } catch (err) {
          expect((err as S3ServiceException).name, key).toBe('NoSuchKey');
          expect(outcomes[i]!.status, `${key} was acknowledged but is gone`).toBe('rejected');
          expect(pendingKeys.has(key), `${key} neither completed nor still pending`).toBe(true);
        }
      }
    } finally {
      s3.destroy();
      await server.stop({ keepData: true });
    }
  });
});
