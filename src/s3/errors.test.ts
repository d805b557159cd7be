import { describe, expect, it } from 'vitest';
import { S3_ERRORS, S3Error } from '../errors/s3-error.js';
import { errorDocument } from './respond.js';

describe('S3 error table', () => {
  it('gives every code an HTTP error status and a message', () => {
    for (const [code, { status, message }] of Object.entries(S3_ERRORS)) {
      expect(status, code).toBeGreaterThanOrEqual(300);
      expect(status, code).toBeLessThan(600);
      expect(message.length, code).toBeGreaterThan(0);
    }
  });
  it('uses the statuses AWS documents for the common codes', () => {
    expect(S3_ERRORS.NoSuchKey.status).toBe(404);
    expect(S3_ERRORS.NoSuchBucket.status).toBe(404);
    expect(S3_ERRORS.AccessDenied.status).toBe(403);
    expect(S3_ERRORS.SignatureDoesNotMatch.status).toBe(403);
    expect(S3_ERRORS.BucketNotEmpty.status).toBe(409);
    expect(S3_ERRORS.InvalidRange.status).toBe(416);
    expect(S3_ERRORS.PreconditionFailed.status).toBe(412);
    expect(S3_ERRORS.NotImplemented.status).toBe(501);
    expect(S3_ERRORS.MissingContentLength.status).toBe(411);
  });
  it('writes the error document S3 writes', () => {
    const xml = errorDocument(new S3Error('NoSuchKey', undefined, { Key: 'a&b' }), '/media/a&b', 'REQ1');
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><Resource>/media/a&amp;b</Resource><RequestId>REQ1</RequestId></Error>');
  });
});
