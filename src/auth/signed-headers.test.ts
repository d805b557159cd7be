import { describe, expect, it } from 'vitest';
import { HEADERS_NOT_SIGNED, requireSignedHeaders } from './signed-headers.js';
import type { S3Error } from '../errors/s3-error.js';

function refusal(headers: Record<string, string>, signed: string[], form: 'header' | 'presigned'): S3Error | undefined {
  try {
    requireSignedHeaders(headers, signed, form);
    return undefined;
  } catch (err) {
    return err as S3Error;
  }
}

describe('requireSignedHeaders', () => {
  it('passes when host and every x-amz-* header present are signed; other headers may go unsigned', () => {
    const headers = { host: 'h', 'x-amz-acl': 'private', 'content-type': 'text/plain', 'content-md5': 'x', range: 'bytes=0-1', 'x-amzn-trace-id': 't' };
    expect(refusal(headers, ['host', 'x-amz-acl'], 'header')).toBeUndefined();
    expect(refusal(headers, ['host', 'x-amz-acl'], 'presigned')).toBeUndefined();
  });

  it('names every unsigned one, sorted, in HeadersNotSigned (host included when it is not signed)', () => {
    const err = refusal({ host: 'h', 'x-amz-tagging': 'a=b', 'x-amz-acl': 'public-read' }, ['user-agent'], 'presigned');
    expect(err).toMatchObject({ code: 'AccessDenied', status: 403, message: HEADERS_NOT_SIGNED, details: { HeadersNotSigned: 'host, x-amz-acl, x-amz-tagging' } });
  });

  it('lets the header form leave out x-amz-date and x-amz-content-sha256, which its signature binds anyway', () => {
    const headers = { host: 'h', 'x-amz-date': '20260101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    expect(refusal(headers, ['host'], 'header')).toBeUndefined();
    expect(refusal(headers, ['host'], 'presigned')).toMatchObject({ details: { HeadersNotSigned: 'x-amz-date' } });
  });
});
