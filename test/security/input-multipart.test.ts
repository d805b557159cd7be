/** CompleteMultipartUpload's part list and every partNumber parameter, parsed strictly as S3 does. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { expectAlive, expectError, expectNoStrayFiles, signed, startHarness, type Harness } from './input-harness.js';

let h: Harness;
const bucket = 'strict-parts';
const MiB = 1024 * 1024;
let uploadId: string;
const etags: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  uploadId = (await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin' }))).UploadId!;
  for (const n of [1, 2, 3]) {
    const part = await h.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big.bin', UploadId: uploadId, PartNumber: n, Body: Buffer.alloc(n === 3 ? 10 : 5 * MiB, n) }));
    etags[n] = part.ETag!;
  }
});
afterAll(async () => {
  await h?.stop();
});

const completeXml = (parts: [string, string][]) =>
  `<CompleteMultipartUpload>${parts.map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
const complete = (body: string) => signed(h, 'POST', `/${bucket}/big.bin`, { query: { uploadId }, body });

describe('CompleteMultipartUpload part list', () => {
  it('a repeated part number (1,1,3) is 400 InvalidPartOrder, not parts 1 and 3', async () => {
    await expectError(complete(completeXml([['1', etags[1]!], ['1', etags[1]!], ['3', etags[3]!]])), 400, 'InvalidPartOrder');
  });

  it('descending order is 400 InvalidPartOrder', async () => {
    await expectError(complete(completeXml([['2', etags[2]!], ['1', etags[1]!]])), 400, 'InvalidPartOrder');
  });

  it.each(['1e0', '1.0', '0x1', '+1', ' 1 e', 'one', '', '١'])('PartNumber %j is 400 MalformedXML', async (n) => {
    await expectError(complete(completeXml([[n, etags[1]!]])), 400, 'MalformedXML');
  });

  it.each(['0', '10001', '99999'])('PartNumber %s is 400 InvalidArgument', async (n) => {
    await expectError(complete(completeXml([[n, etags[1]!]])), 400, 'InvalidArgument');
  });

  it('a part without an ETag, or no parts at all, is 400 MalformedXML', async () => {
    await expectError(complete('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'), 400, 'MalformedXML');
    await expectError(complete('<CompleteMultipartUpload></CompleteMultipartUpload>'), 400, 'MalformedXML');
  });

  it('the upload is intact after all that and completes from a strict list', async () => {
    const res = await complete(completeXml([['1', etags[1]!], ['2', etags[2]!], ['3', etags[3]!]]));
    expect(res.status).toBe(200);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', PartNumber: 3 }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(Buffer.alloc(10, 3));
    await expectAlive(h, bucket);
  });
});

describe('partNumber query parameters', () => {
  const bad = ['0', '10001', '1e0', '-1', '0x1', 'abc', '', '1.5', '1'.padEnd(400, '0')];

  it.each(bad)('UploadPart with partNumber=%j is 400 InvalidArgument and writes nothing', async (n) => {
    const id = (await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'p.bin' }))).UploadId!;
    await expectError(signed(h, 'PUT', `/${bucket}/p.bin`, { query: { uploadId: id, partNumber: n }, body: 'part' }), 400, 'InvalidArgument');
    await expectNoStrayFiles(h);
  });

  it.each(bad)('GetObject and HeadObject with partNumber=%j are 400 InvalidArgument', async (n) => {
    await expectError(signed(h, 'GET', `/${bucket}/big.bin`, { query: { partNumber: n } }), 400, 'InvalidArgument');
    expect((await signed(h, 'HEAD', `/${bucket}/big.bin`, { query: { partNumber: n } })).status).toBe(400);
  });

  it('a part past the last is 416 InvalidPartNumber', async () => {
    await expectError(signed(h, 'GET', `/${bucket}/big.bin`, { query: { partNumber: '4' } }), 416, 'InvalidPartNumber');
  });

  it('ListParts with part-number-marker=1e0 is 400 InvalidArgument', async () => {
    const id = (await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm.bin' }))).UploadId!;
    await expectError(signed(h, 'GET', `/${bucket}/m.bin`, { query: { uploadId: id, 'part-number-marker': '1e0' } }), 400, 'InvalidArgument');
    expect((await signed(h, 'GET', `/${bucket}/m.bin`, { query: { uploadId: id, 'part-number-marker': '0' } })).status).toBe(200);
  });
});
