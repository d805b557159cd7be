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
// Request bodies arrive in pieces of 16-64 KiB: a frame spans a few of them.
const MAX_PIECES_PER_FRAME = 8;

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

/** The frame's ciphertext as pieces (no copy of the plaintext pieces into one buffer first), then its tag. */
export function sealFrame(key: Buffer, prefix: Buffer, index: number, final: boolean, plain: Buffer | Buffer[]): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonceOf(prefix, index));
  cipher.setAAD(aadOf(index, final));
  const out = Array.isArray(plain) ? plain.map((piece) => cipher.update(piece)) : [cipher.update(plain)];
  cipher.final();
  out.push(cipher.getAuthTag());
  return out;
}

/**
 * Opens the frames of one segment of `plainSize` bytes; any tampering is an integrity error, never
 * other bytes. Frame i is checked with its own nonce and with i and "is it the last" as its
 * additional data, so a frame moved, or a segment cut at a frame boundary, fails like a flipped bit.
 */
export class FrameOpener {
  private readonly nonce = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(5);
  private readonly lastIndex: number;

  constructor(private readonly key: Buffer, prefix: Buffer, private readonly plainSize: number, private readonly where: string) {
    prefix.copy(this.nonce, 0, 0, 8);
    this.lastIndex = Math.ceil(plainSize / FRAME_BYTES) - 1;
  }

  /** Plaintext bytes of frame `index`. */
  plainLength(index: number): number {
    return Math.min(FRAME_BYTES, this.plainSize - index * FRAME_BYTES);
  }

  /** Decrypts frame `index` from `sealed` (its ciphertext and tag, exactly). */
  open(index: number, sealed: Buffer): Buffer {
    const final = index === this.lastIndex;
    const expected = this.plainLength(index) + TAG_BYTES;
    try {
      if (index < 0 || index > this.lastIndex) throw new Error(`no frame ${index} in a segment of ${this.plainSize} bytes`);
      if (sealed.length !== expected) throw new Error(`frame is ${sealed.length} bytes, expected ${expected}`);
      // createDecipheriv and setAAD take copies: the two buffers can be reused for the next frame.
      this.nonce.writeUInt32BE(index, 8);
      this.aad.writeUInt32BE(index, 0);
      this.aad[4] = final ? 1 : 0;
      const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce);
      decipher.setAAD(this.aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
      // Throws unless the tag matches: only then may the bytes be used.
      decipher.final();
      return plain;
    } catch (err) {
      console.error(`offload: integrity check failed for ${this.where}, frame ${index}: ${(err as Error).message}`);
      throw new S3Error('XOffloadIntegrityError', undefined, { Detail: `${this.where} frame ${index}` });
    }
  }
}

/** Decrypts frame `index` of a segment of `plainSize` bytes (one-off; readers use a FrameOpener). */
export function openFrame(key: Buffer, prefix: Buffer, index: number, plainSize: number, sealed: Buffer, where: string): Buffer {
  return new FrameOpener(key, prefix, plainSize, where).open(index, sealed);
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
    // Object mode on the reading side hands each ciphertext piece and tag to the blob writer as
    // pushed: a byte-mode reader joins whatever is buffered into a new buffer on every read (a
    // copy of every frame). The writer gathers them into large writes anyway.
    super({ readableObjectMode: true, readableHighWaterMark: 2 * MAX_PIECES_PER_FRAME });
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
    // A few held pieces go through the cipher one by one (no copy into one frame buffer first);
    // many small ones are joined, so the writer is not handed a crowd of tiny buffers.
    const plain = this.held.length <= MAX_PIECES_PER_FRAME ? this.held : Buffer.concat(this.held, this.heldBytes);
    for (const part of sealFrame(this.key, this.prefix, this.index++, final, plain)) this.push(part);
    this.held = [];
    this.heldBytes = 0;
  }
}
