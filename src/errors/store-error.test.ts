import { describe, expect, it } from 'vitest';
import { StoreError, s3ErrorFromStore } from './store-error.js';
import { S3Error } from './s3-error.js';
import { toS3Error } from '../s3/respond.js';

describe('StoreError mapping', () => {
  it('names the resource when the caller knows it', () => {
    const err = s3ErrorFromStore(new StoreError('NoSuchBucket'), { bucket: 'b' }) as S3Error;
    expect(err).toBeInstanceOf(S3Error);
    expect([err.code, err.status, err.details]).toEqual(['NoSuchBucket', 404, { BucketName: 'b' }]);
  });
  it('leaves other errors alone', () => {
    const other = new Error('x');
    expect(s3ErrorFromStore(other)).toBe(other);
  });
  it('answers a StoreError that escaped storeCall as its S3 error, not InternalError', () => {
    for (const code of ['NoSuchBucket', 'NoSuchKey', 'NoSuchUpload', 'BucketNotEmpty', 'BucketAlreadyExists', 'InvalidPart'] as const) {
      const err = toS3Error(new StoreError(code));
      expect(err.code).toBe(code);
    }
    expect(toS3Error(new StoreError('BucketNotEmpty')).status).toBe(409);
  });
});
