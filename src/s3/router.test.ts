import { describe, expect, it } from 'vitest';
import { bucketFromHost, route, splitPath } from './router.js';
import { S3Error } from '../errors/s3-error.js';

const r = (method: string, target: string, opts: { hostBucket?: string; copySource?: string } = {}) => {
  const [path = '/', query = ''] = target.split('?');
  return route({ method, rawPath: path, query: new URLSearchParams(query), ...opts });
};

describe('route', () => {
  // Requests as the AWS S3 API reference shows them.
  it.each([
    ['GET', '/', { op: 'ListBuckets' }],
    ['PUT', '/media', { op: 'CreateBucket', bucket: 'media' }],
    ['HEAD', '/media', { op: 'HeadBucket', bucket: 'media' }],
    ['DELETE', '/media', { op: 'DeleteBucket', bucket: 'media' }],
    ['GET', '/media?location', { op: 'GetBucketLocation', bucket: 'media' }],
    ['GET', '/media?versioning', { op: 'GetBucketVersioning', bucket: 'media' }],
    ['GET', '/media', { op: 'ListObjects', bucket: 'media' }],
    ['GET', '/media?list-type=2&prefix=css/', { op: 'ListObjectsV2', bucket: 'media' }],
    ['GET', '/media?versions', { op: 'ListObjectVersions', bucket: 'media' }],
    ['GET', '/media?uploads', { op: 'ListMultipartUploads', bucket: 'media' }],
    ['POST', '/media?delete', { op: 'DeleteObjects', bucket: 'media' }],
    ['DELETE', '/media?cors', { op: 'DeleteBucketCors', bucket: 'media' }],
    ['PUT', '/media?policy', { op: 'PutBucketPolicy', bucket: 'media' }],
    ['GET', '/media?policyStatus', { op: 'GetBucketPolicyStatus', bucket: 'media' }],
    ['PUT', '/media/css/site.css', { op: 'PutObject', bucket: 'media', key: 'css/site.css' }],
    ['GET', '/media/css/site.css', { op: 'GetObject', bucket: 'media', key: 'css/site.css' }],
    ['HEAD', '/media/a%20b.png', { op: 'HeadObject', bucket: 'media', key: 'a b.png' }],
    ['DELETE', '/media/x', { op: 'DeleteObject', bucket: 'media', key: 'x' }],
    ['GET', '/media/x?acl', { op: 'GetObjectAcl', bucket: 'media', key: 'x' }],
    ['PUT', '/media/x?tagging', { op: 'PutObjectTagging', bucket: 'media', key: 'x' }],
    ['POST', '/media/big.bin?uploads', { op: 'CreateMultipartUpload', bucket: 'media', key: 'big.bin' }],
    ['PUT', '/media/big.bin?partNumber=2&uploadId=abc', { op: 'UploadPart', bucket: 'media', key: 'big.bin' }],
    ['POST', '/media/big.bin?uploadId=abc', { op: 'CompleteMultipartUpload', bucket: 'media', key: 'big.bin' }],
    ['DELETE', '/media/big.bin?uploadId=abc', { op: 'AbortMultipartUpload', bucket: 'media', key: 'big.bin' }],
    ['GET', '/media/big.bin?uploadId=abc', { op: 'ListParts', bucket: 'media', key: 'big.bin' }],
    ['OPTIONS', '/media/font.woff2', { op: 'CorsPreflight', bucket: 'media', key: 'font.woff2' }],
  ])('%s %s', (method, target, expected) => {
    expect(r(method, target)).toEqual(expected);
  });

  it('makes a PUT with x-amz-copy-source a copy', () => {
    expect(r('PUT', '/media/b', { copySource: '/media/a' })).toEqual({ op: 'CopyObject', bucket: 'media', key: 'b' });
    expect(r('PUT', '/media/b?partNumber=1&uploadId=u', { copySource: '/media/a' })).toEqual({ op: 'UploadPartCopy', bucket: 'media', key: 'b' });
  });

  it('takes the bucket from the host when virtual-hosted', () => {
    expect(r('GET', '/css/site.css', { hostBucket: 'media' })).toEqual({ op: 'GetObject', bucket: 'media', key: 'css/site.css' });
    expect(r('GET', '/', { hostBucket: 'media' })).toEqual({ op: 'ListObjects', bucket: 'media' });
  });

  it('routes unknown sub-resources to a named NotImplemented operation', () => {
    expect(r('GET', '/media?analytics')).toEqual({ op: 'BucketSubresource', bucket: 'media' });
  });

  it('refuses methods a resource does not have', () => {
    expect(() => r('POST', '/media?location')).toThrow(S3Error);
    expect(() => r('PATCH', '/media/x')).toThrow(S3Error);
  });
});

describe('splitPath', () => {
  it('keeps hostile keys as they are', () => {
    expect(splitPath('/b/a/../b')).toEqual({ bucket: 'b', key: 'a/../b' });
    expect(splitPath('/b//x')).toEqual({ bucket: 'b', key: '/x' });
    expect(splitPath('/b/%2F%2E%2E%2Fetc')).toEqual({ bucket: 'b', key: '/../etc' });
    expect(splitPath('/b/100%25+plus')).toEqual({ bucket: 'b', key: '100%+plus' });
    expect(splitPath('/b/%F0%9F%98%80')).toEqual({ bucket: 'b', key: '😀' });
  });
  it('rejects broken percent-encoding', () => {
    expect(() => splitPath('/b/%zz')).toThrow(S3Error);
  });
});

describe('bucketFromHost', () => {
  const buckets = new Set(['media.example.com']);
  const isBucket = (n: string) => buckets.has(n);
  it.each([
    ['localhost:9000', undefined],
    ['127.0.0.1:9000', undefined],
    ['[::1]:9000', undefined],
    ['media.localhost:9000', 'media'],
    ['Media.LocalHost', 'media'],
    ['media.example.com', 'media.example.com'],
    ['other.example.com', undefined],
  ])('%s', (host, expected) => {
    expect(bucketFromHost(host, 'localhost', isBucket)).toBe(expected);
  });
});
