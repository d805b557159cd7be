/**
 * Decoder for `Content-Encoding: aws-chunked` bodies: `hex-size[;chunk-signature=sig]\r\n`,
 * data, `\r\n`, ..., a zero-size chunk, then optional trailer headers (trailing checksums).
 * Signed chunks are verified against the seed signature chain as they arrive; data is passed
 * on as it streams (the store commits only after the whole body has verified).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import { S3Error } from '../errors/s3-error.js';
import { hmac } from './signing-key.js';
import { EMPTY_SHA256, sha256Hex } from './sigv4.js';

export interface ChunkSigning {
  seedSignature: string;
  signingKey: Buffer;
  amzDate: string;
  scope: string;
}

const MAX_LINE = 4096;
type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-case names), known once the body has ended. */
  readonly trailers = new Map<string, string>();
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  private chunkSignature = '';
  private previousSignature: string;
  private chunkHash: Hash | undefined;

  constructor(private readonly signing: ChunkSigning | undefined, private readonly expectTrailer: boolean) {
    super();
    this.previousSignature = signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // The final CRLF after the last chunk (or after the trailers) is optional in practice.
    try {
      if (this.state === 'trailer' && this.line === '') {
        this.verifyTrailer();
        this.state = 'done';
      }
      const complete = this.state === 'done' || (this.state === 'size' && this.line === '' && this.sawLastChunk);
      callback(complete ? undefined : new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.'));
    } catch (err) {
      callback(err as Error);
    }
  }

  private sawLastChunk = false;

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buf.length - i);
        const piece = buf.subarray(i, i + n);
        this.chunkHash?.update(piece);
        this.push(piece);
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      const nl = buf.indexOf(0x0a, i);
      const end = nl < 0 ? buf.length : nl + 1;
      this.line += buf.toString('latin1', i, end);
      i = end;
      if (this.line.length > MAX_LINE) throw malformed('a chunk header line is too long');
      if (nl < 0) continue;
      const line = this.line.replace(/\r?\n$/, '');
      this.line = '';
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    switch (this.state) {
      case 'size': {
        if (this.sawLastChunk) {
          if (line !== '') throw malformed('data after the final chunk');
          this.state = 'done';
          return;
        }
        const [sizeHex, ...extensions] = line.split(';');
        if (!/^[0-9a-fA-F]{1,16}$/.test(sizeHex ?? '')) throw malformed(`bad chunk size "${line.slice(0, 40)}"`);
        const size = parseInt(sizeHex!, 16);
        const sig = extensions.find((e) => e.startsWith('chunk-signature='));
        if (this.signing) {
          if (!sig) throw new S3Error('SignatureDoesNotMatch', 'A chunk of the signed aws-chunked body has no chunk-signature.');
          this.chunkSignature = sig.slice('chunk-signature='.length);
          this.chunkHash = createHash('sha256');
        }
        if (size === 0) {
          this.verifyChunk();
          this.sawLastChunk = true;
          if (this.expectTrailer) this.state = 'trailer';
          return;
        }
        this.remaining = size;
        this.state = 'data';
        return;
      }
      case 'data-end':
        if (line !== '') throw malformed('chunk data longer than its declared size');
        this.verifyChunk();
        this.state = 'size';
        return;
      case 'trailer': {
        if (line === '') {
          this.verifyTrailer();
          this.state = 'done';
          return;
        }
        const colon = line.indexOf(':');
        if (colon <= 0) throw malformed('bad trailer line');
        this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        return;
      }
      case 'done':
        if (line !== '') throw malformed('data after the end of the body');
        return;
      case 'data':
        return;
    }
  }

  private verifyChunk(): void {
    if (!this.signing || !this.chunkHash) return;
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', this.signing.amzDate, this.signing.scope, this.previousSignature, EMPTY_SHA256, this.chunkHash.digest('hex')].join('\n');
    const expected = hmac(this.signing.signingKey, stringToSign).toString('hex');
    if (expected !== this.chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'The chunk signature does not match.');
    this.previousSignature = expected;
    this.chunkHash = undefined;
  }

  private verifyTrailer(): void {
    if (!this.signing) return;
    const provided = this.trailers.get('x-amz-trailer-signature');
    if (provided === undefined) throw new S3Error('SignatureDoesNotMatch', 'The trailer of the signed aws-chunked body has no x-amz-trailer-signature.');
    let canonical = '';
    for (const [name, value] of this.trailers) if (name !== 'x-amz-trailer-signature') canonical += `${name}:${value}\n`;
    const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', this.signing.amzDate, this.signing.scope, this.previousSignature, sha256Hex(canonical)].join('\n');
    if (hmac(this.signing.signingKey, stringToSign).toString('hex') !== provided) throw new S3Error('SignatureDoesNotMatch', 'The trailer signature does not match.');
  }
}

function malformed(why: string): S3Error {
  return new S3Error('IncompleteBody', `Malformed aws-chunked body: ${why}.`);
}
