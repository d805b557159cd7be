/**
 * The on-disk format of an encrypted blob: AES-256-GCM in frames of FRAME_BYTES plaintext, each
 * followed by its 16-byte tag. Frame i's nonce is the blob's random 8-byte prefix followed by i
 * (big-endian), and its additional data binds i and whether it is the last frame, so frames can be
 * neither reordered, nor swapped between blobs (each blob has its own data key), nor cut off at a
 * frame boundary. A Range read decrypts only the frames it touches.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../../errors/s3-error.js';

export const FRAME_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
const CIPHER_FRAME = FRAME_BYTES + TAG_BYTES;

/** Ciphertext size of a segment of `plain` bytes. */
export function cipherSize(plain: number): number {
  return plain + TAG_BYTES * Math.ceil(plain / FRAME_BYTES);
}

function nonceOf(prefix: Buffer, index: number): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0, 0, 8);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

function aadOf(index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(5);
  aad.writeUInt32BE(index, 0);
  aad[4] = final ? 1 : 0;
  return aad;
}

export function sealFrame(key: Buffer, prefix: Buffer, index: number, final: boolean, plain: Buffer): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonceOf(prefix, index));
  cipher.setAAD(aadOf(index, final));
  const body = cipher.update(plain);
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/** Decrypts frame `index` of a segment of `plainSize` bytes; any tampering is an integrity error, never other bytes. */
export function openFrame(key: Buffer, prefix: Buffer, index: number, plainSize: number, sealed: Buffer, where: string): Buffer {
  const final = index === Math.ceil(plainSize / FRAME_BYTES) - 1;
  const expected = (final ? plainSize - index * FRAME_BYTES : FRAME_BYTES) + TAG_BYTES;
  try {
    if (sealed.length !== expected) throw new Error(`frame is ${sealed.length} bytes, expected ${expected}`);
    const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(prefix, index));
    decipher.setAAD(aadOf(index, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    decipher.final();
    return plain;
  } catch (err) {
    console.error(`offload: integrity check failed for ${where}, frame ${index}: ${(err as Error).message}`);
    throw new S3Error('XOffloadIntegrityError', undefined, { Detail: `${where} frame ${index}` });
  }
}

/** Where frame `index` starts in the ciphertext. */
export function frameOffset(index: number): number {
  return index * CIPHER_FRAME;
}

/** The frames [first, last] covering plaintext bytes [start, end] of a segment, and their ciphertext extent. */
export function framesFor(start: number, end: number, plainSize: number): { first: number; last: number; cipherStart: number; cipherEnd: number } {
  const first = Math.floor(start / FRAME_BYTES);
  const last = Math.floor(end / FRAME_BYTES);
  const cipherEnd = Math.min(frameOffset(last + 1), cipherSize(plainSize)) - 1;
  return { first, last, cipherStart: frameOffset(first), cipherEnd };
}

/**
 * Encrypts a body as it streams; also counts it and hashes it (MD5 of the plaintext is the ETag).
 * A frame is held until the next byte arrives, because only then is it known not to be the last.
 */
export class SealingStream extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private index = 0;

  constructor(private readonly key: Buffer, private readonly prefix: Buffer, private readonly onPlain: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.onPlain(chunk);
    let rest = chunk;
    while (rest.length > 0) {
      if (this.heldBytes === FRAME_BYTES) this.emitFrame(false);
      const take = Math.min(FRAME_BYTES - this.heldBytes, rest.length);
      this.held.push(rest.subarray(0, take));
      this.heldBytes += take;
      rest = rest.subarray(take);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.heldBytes > 0) this.emitFrame(true);
    done();
  }

  private emitFrame(final: boolean): void {
    const plain = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    for (const part of sealFrame(this.key, this.prefix, this.index++, final, plain)) this.push(part);
    this.held = [];
    this.heldBytes = 0;
  }
}
