/**
 * Reading an encrypted object: a reader over the ciphertext (the blob files, or inline bytes)
 * wrapped by one that decrypts just the frames a range touches. Plaintext exists only in memory.
 */
import { Readable } from 'node:stream';
import type { ObjectMeta, ObjectReader } from '../types.js';
import { cipherSize, FRAME_BYTES, frameOffset, framesFor, openFrame, TAG_BYTES } from './frames.js';

// Frames decrypted per chunk of a large download: 1 MiB of plaintext, as plain reads use.
const FRAMES_PER_CHUNK = 16;

/** The ciphertext's view of the object: each segment as long as its encrypted blob. */
export function cipherMetaOf(meta: ObjectMeta): ObjectMeta {
  const segments = meta.segments.map((s) => ({ ...s, size: cipherSize(s.size) }));
  return { ...meta, segments, size: segments.reduce((sum, s) => sum + s.size, 0) };
}

type Span = { index: number; from: number; to: number };

/** The stretches of plaintext [start, end] per segment, in segment coordinates. */
function* spans(meta: ObjectMeta, start: number, end: number): Generator<Span> {
  let offset = 0;
  for (let index = 0; index < meta.segments.length && offset <= end; index++) {
    const size = meta.segments[index]!.size;
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + size - 1);
    if (from <= to) yield { index, from: from - offset, to: to - offset };
    offset += size;
  }
}

export function sealedReader(meta: ObjectMeta, raw: ObjectReader, dataKeys: Buffer[]): ObjectReader {
  const cipherBase: number[] = [];
  let base = 0;
  for (const s of meta.segments) {
    cipherBase.push(base);
    base += cipherSize(s.size);
  }

  /** Plaintext [from, to] of one segment, decrypting only the frames it covers. */
  const decrypt = async (index: number, from: number, to: number): Promise<Buffer> => {
    const segment = meta.segments[index]!;
    const frames = framesFor(from, to, segment.size);
    const sealed = await raw.read({ start: cipherBase[index]! + frames.cipherStart, end: cipherBase[index]! + frames.cipherEnd });
    try {
      const prefix = Buffer.from(segment.enc!.nonce, 'base64');
      const plain: Buffer[] = [];
      for (let f = frames.first; f <= frames.last; f++) {
        const at = frameOffset(f) - frames.cipherStart;
        const length = Math.min(FRAME_BYTES, segment.size - f * FRAME_BYTES) + TAG_BYTES;
        plain.push(openFrame(dataKeys[index]!, prefix, f, segment.size, sealed.bytes.subarray(at, at + length), `blob ${segment.blobId}`));
      }
      const whole = plain.length === 1 ? plain[0]! : Buffer.concat(plain);
      const skip = from - frames.first * FRAME_BYTES;
      return whole.subarray(skip, skip + to - from + 1);
    } finally {
      sealed.recycle();
    }
  };

  async function* pieces(range?: { start: number; end: number }): AsyncGenerator<Buffer> {
    const start = range?.start ?? 0;
    const end = range?.end ?? meta.size - 1;
    const step = FRAMES_PER_CHUNK * FRAME_BYTES;
    for (const span of spans(meta, start, end)) {
      for (let from = span.from; from <= span.to; ) {
        const to = Math.min(span.to, (Math.floor(from / step) + 1) * step - 1);
        yield await decrypt(span.index, from, to);
        from = to + 1;
      }
    }
  }

  return {
    meta,
    bytes: () => undefined,
    async read(range) {
      const parts: Buffer[] = [];
      for await (const piece of pieces(range)) parts.push(piece);
      return { bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts), recycle: () => undefined };
    },
    async *chunks(range) {
      for await (const piece of pieces(range)) yield { bytes: piece, recycle: () => undefined };
    },
    stream: (range) => Readable.from(pieces(range), { objectMode: false }),
    close: () => raw.close(),
  };
}
