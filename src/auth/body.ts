/**
 * The request body as the handlers see it: decoded from aws-chunked when needed, and verified
 * while it streams against everything the request promised (payload SHA-256, checksum header or
 * trailer, decoded length). A failed check errors the stream before it ends, so nothing commits.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import type { ChecksumAlgorithm } from '../storage/types.js';
import type { ChecksumRequest, DecodedBody, PayloadMode } from './types.js';
import { AwsChunkedDecoder } from './chunked.js';
import { first } from './request.js';
import { CHECKSUM_ALGORITHMS, DIGEST_BYTES, createHasher, isChecksumAlgorithm, type Hasher } from './checksums.js';

const continuations = new WeakMap<IncomingMessage, () => void>();

/**
 * For a request that sent `Expect: 100-continue`: how to tell the client to send its body. It is
 * called only when a handler starts reading, so a request refused before that (AccessDenied,
 * NoSuchBucket) never makes the client upload the body.
 */
export function onBodyWanted(req: IncomingMessage, sendContinue: () => void): void {
  continuations.set(req, sendContinue);
}

/**
 * `maxLength`: the most decoded bytes the body may have (the declared size, itself capped at the
 * operation's limit). Counted as the bytes stream, so a body that says 10 bytes and keeps
 * sending, or an aws-chunked body whose chunks add up past its decoded length, fails at once
 * instead of filling the disk before the end-of-body check.
 */
export function decodeBody(req: IncomingMessage, payload: PayloadMode, opts: { headers: IncomingHttpHeaders; checksum?: ChecksumRequest; maxLength?: number }): DecodedBody {
  const sendContinue = continuations.get(req);
  if (sendContinue) {
    continuations.delete(req);
    sendContinue();
  }
  const decoder = payload.kind === 'chunked'
    ? new AwsChunkedDecoder(
        payload.signed ? { seedSignature: payload.seedSignature!, signingKey: payload.signingKey!, amzDate: payload.amzDate!, scope: payload.scope! } : undefined,
        payload.trailer,
      )
    : undefined;
  const decodedLength = payload.kind === 'chunked' ? first(opts.headers['x-amz-decoded-content-length']) : undefined;
  const verifier = new BodyVerifier({
    sha256: payload.kind === 'sha256' ? payload.expectedHex : undefined,
    checksum: opts.checksum,
    expectedLength: decodedLength === undefined ? undefined : Number(decodedLength),
    maxLength: opts.maxLength,
    trailers: decoder?.trailers,
  });
  // Piped by hand, not with pipeline(): a failed check must not destroy the request socket,
  // which still has to carry the error response.
  const fail = (err: Error) => verifier.destroy(err);
  // The consumer may attach only after an await (opening its file): until then an error must
  // stay stored on the stream (its iterator rethrows it), not crash the process as unhandled.
  verifier.on('error', () => undefined);
  req.on('error', () => fail(new S3Error('IncompleteBody', 'The request body ended early (connection closed).')));
  req.on('close', () => {
    if (!req.complete) fail(new S3Error('IncompleteBody', 'The request body ended early (connection closed).'));
  });
  if (decoder) {
    decoder.on('error', fail);
    req.pipe(decoder).pipe(verifier);
  } else {
    req.pipe(verifier);
  }
  return { stream: verifier, checksum: () => verifier.result };
}

class BodyVerifier extends Transform {
  result: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  private size = 0;
  private readonly sha: Hash | undefined;
  private readonly hasher: Hasher | undefined;

  constructor(private readonly opts: { sha256?: string; checksum?: ChecksumRequest; expectedLength?: number; maxLength?: number; trailers?: Map<string, string> }) {
    super();
    this.sha = opts.sha256 ? createHash('sha256') : undefined;
    this.hasher = opts.checksum ? createHasher(opts.checksum.algorithm) : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    const { expectedLength, maxLength } = this.opts;
    if (maxLength !== undefined && this.size > maxLength) {
      callback(new S3Error('IncompleteBody', `The body is longer than the ${maxLength} bytes it declared.`));
      return;
    }
    if (expectedLength !== undefined && this.size > expectedLength) {
      callback(new S3Error('IncompleteBody', `x-amz-decoded-content-length says ${expectedLength} bytes; the body has more.`));
      return;
    }
    this.sha?.update(chunk);
    this.hasher?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.verify();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private verify(): void {
    const { sha256, checksum, expectedLength, trailers } = this.opts;
    if (this.sha && sha256) {
      const computed = this.sha.digest('hex');
      if (computed !== sha256) throw new S3Error('XAmzContentSHA256Mismatch', undefined, { ClientComputedContentSHA256: sha256, S3ComputedContentSHA256: computed });
    }
    if (expectedLength !== undefined && Number.isFinite(expectedLength) && expectedLength !== this.size) {
      throw new S3Error('IncompleteBody', `x-amz-decoded-content-length says ${expectedLength} bytes; the body had ${this.size}.`);
    }
    if (this.hasher && checksum) {
      const value = this.hasher.digest().toString('base64');
      const name = `x-amz-checksum-${checksum.algorithm.toLowerCase()}`;
      const expected = checksum.expected ?? trailers?.get(name);
      if (checksum.expected === undefined && trailers !== undefined && expected === undefined) {
        throw new S3Error('InvalidRequest', `The ${name} trailer announced in x-amz-trailer was not sent.`);
      }
      if (expected !== undefined && expected !== value) {
        throw new S3Error('BadDigest', `The ${checksum.algorithm} you specified did not match the calculated checksum.`);
      }
      this.result = { algorithm: checksum.algorithm, value };
    }
  }
}

/** The checksum a request asks for: a value header, a trailer to come, or just an algorithm. */
export function checksumRequestFromHeaders(headers: IncomingHttpHeaders): ChecksumRequest | undefined {
  const given = CHECKSUM_ALGORITHMS.filter((alg) => headers[`x-amz-checksum-${alg.toLowerCase()}`] !== undefined);
  if (given.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkAlgorithm = first(headers['x-amz-sdk-checksum-algorithm'])?.toUpperCase();
  if (sdkAlgorithm !== undefined && !isChecksumAlgorithm(sdkAlgorithm)) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  if (given.length === 1) {
    const algorithm = given[0]!;
    const value = first(headers[`x-amz-checksum-${algorithm.toLowerCase()}`])!.trim();
    const raw = Buffer.from(value, 'base64');
    if (raw.length !== DIGEST_BYTES[algorithm] || raw.toString('base64') !== value) {
      throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`);
    }
    return { algorithm, expected: value };
  }
  const trailer = first(headers['x-amz-trailer'])?.trim().toLowerCase();
  if (trailer !== undefined && trailer !== '') {
    const algorithm = trailer.replace(/^x-amz-checksum-/, '').toUpperCase();
    if (!trailer.startsWith('x-amz-checksum-') || !isChecksumAlgorithm(algorithm)) throw new S3Error('InvalidRequest', `The trailer ${trailer} is not supported.`);
    return { algorithm };
  }
  return sdkAlgorithm !== undefined ? { algorithm: sdkAlgorithm as ChecksumAlgorithm } : undefined;
}

export function verifyContentMd5(header: string, md5: Buffer): void {
  const raw = Buffer.from(header.trim(), 'base64');
  if (raw.length !== 16) throw new S3Error('InvalidDigest');
  if (!raw.equals(md5)) throw new S3Error('BadDigest');
}
