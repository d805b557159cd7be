/**
 * The Store's failures and their one mapping to S3 errors. Storage throws `StoreError` with a
 * protocol-neutral code; whoever answers the request (a handler's `storeCall`, or `toS3Error`
 * for one that escaped unwrapped) turns it into the S3 error of the same name here, so an
 * escaped StoreError is a 404/409, never an InternalError.
 */
import { S3Error } from './s3-error.js';

export type StoreErrorCode = 'NoSuchBucket' | 'NoSuchKey' | 'NoSuchUpload' | 'BucketNotEmpty' | 'BucketAlreadyExists' | 'InvalidPart' | 'NoSuchVersion';

/** Engine-level failures; mapped to S3Error with the same code by `s3ErrorFromStore`. */
export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message?: string) {
    super(message ?? code);
  }
}

/** The resource the failed call was about, named in the error document when known. */
export interface StoreErrorResource {
  bucket?: string;
  key?: string;
}

/** The S3 error for a StoreError; other errors are returned as they are. */
export function s3ErrorFromStore(err: unknown, resource: StoreErrorResource = {}): unknown {
  if (!(err instanceof StoreError)) return err;
  const bucketName: Record<string, string> = resource.bucket === undefined ? {} : { BucketName: resource.bucket };
  switch (err.code) {
    case 'NoSuchBucket': return new S3Error('NoSuchBucket', undefined, bucketName);
    case 'NoSuchKey': return new S3Error('NoSuchKey', undefined, resource.key === undefined ? {} : { Key: resource.key });
    case 'NoSuchUpload': return new S3Error('NoSuchUpload');
    case 'BucketNotEmpty': return new S3Error('BucketNotEmpty', undefined, bucketName);
    case 'BucketAlreadyExists': return new S3Error('BucketAlreadyExists', undefined, bucketName);
    case 'InvalidPart': return new S3Error('InvalidPart');
    case 'NoSuchVersion': return new S3Error('NoSuchVersion');
  }
}
