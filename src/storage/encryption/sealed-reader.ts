/**
 * Reading an encrypted object: a reader over the ciphertext (the blob files, or inline bytes)
 * wrapped by one that decrypts just the frames a range touches. Plaintext exists only in memory.
 *
 * Speed: the ciphertext of a run of frames is read with one read into one pooled buffer, and each
 * frame's plaintext is copied straight into the caller's output (one pooled buffer for read(),
 * one per chunk of 15 frames for chunks()), so a download makes no per-frame buffers of its own and no
 * joining copy; stream() is the chunked path. (Node's decipher hands each frame back in a buffer
 * it allocates; that one allocation per 64 KiB frame is the rest.)
 */
import { Readable } from 'node:stream';
import { takeBuffer, type PooledBuffer } from '../buffer-pool.js';
import type { ObjectMeta, ObjectReader } from '../types.js';
import { cipherSize, FRAME_BYTES, FrameOpener, frameOffset, framesFor, TAG_BYTES } from './frames.js';

// Frames per ciphertext read and per chunk: 15, so that the ciphertext (960 KiB + 240 bytes) fits
// the buffer pool's 1 MiB class, like the plaintext. With 16 (1 MiB of plaintext, 1 MiB + 256
// bytes of ciphertext) every read took a 2 MiB buffer: 8 GETs in flight outgrew the pool's 16 MiB
// and fresh buffers were allocated and faulted in; measured, a GET then cost 1.4-2x the CPU.
const RUN_BYTES = 15 * FRAME_BYTES;

/** The ciphertext's view of the object: each segment as long as its encrypted blob. */
export function cipherMetaOf(meta: ObjectMeta): ObjectMeta {
  const segments = meta.segments.map((s) => ({ ...s, size: cipherSize(s.size) }));
  return { ...meta, segments, size: segments.reduce((sum, s) => sum + s.size, 0) };
}

/** Plaintext [from, to] of segment `index` (segment coordinates), inside one run of frames. */
type Run = { index: number; from: number; to: number };

/** The runs covering plaintext [start, end] of the object: per segment, cut at multiples of RUN_BYTES. */
function* runsOf(meta: ObjectMeta, start: number, end: number): Generator<Run> {
  let offset = 0;
  for (let index = 0; index < meta.segments.length && offset <= end; index++) {
    const size = meta.segments[index]!.size;
    const to = Math.min(end, offset + size - 1) - offset;
    for (let from = Math.max(start, offset) - offset; from <= to; ) {
      const runEnd = Math.min(to, (Math.floor(from / RUN_BYTES) + 1) * RUN_BYTES - 1);
      yield { index, from, to: runEnd };
      from = runEnd + 1;
    }
    offset += size;
  }
}

export interface SealedReader extends ObjectReader {
  /** Like read(), into a buffer of exactly the range's size that nobody recycles (for the hot cache to keep). */
  readOwned(range?: { start: number; end: number }): Promise<Buffer>;
}

export function sealedReader(meta: ObjectMeta, raw: ObjectReader, dataKeys: Buffer[]): SealedReader {
  const cipherBase: number[] = [];
  let base = 0;
  for (const s of meta.segments) {
    cipherBase.push(base);
    base += cipherSize(s.size);
  }
  const openers = meta.segments.map((s, i) => new FrameOpener(dataKeys[i]!, Buffer.from(s.enc!.nonce, 'base64'), s.size, `blob ${s.blobId}`));
  const bounds = (range?: { start: number; end: number }) => ({ start: range?.start ?? 0, end: range?.end ?? meta.size - 1 });

  /** Decrypts one run into `out` from `at`: one read of its frames' ciphertext, then each frame opened and copied in. */
  const decryptRun = async (run: Run, out: Buffer, at: number): Promise<number> => {
    const segment = meta.segments[run.index]!;
    const opener = openers[run.index]!;
    const frames = framesFor(run.from, run.to, segment.size);
    const cipherAt = cipherBase[run.index]!;
    const sealed = await raw.read({ start: cipherAt + frames.cipherStart, end: cipherAt + frames.cipherEnd });
    try {
      let written = at;
      for (let f = frames.first; f <= frames.last; f++) {
        const offset = frameOffset(f) - frames.cipherStart;
        // A ciphertext shorter than recorded gives a short frame here, which open() refuses.
        const plain = opener.open(f, sealed.bytes.subarray(offset, offset + opener.plainLength(f) + TAG_BYTES));
        const frameStart = f * FRAME_BYTES;
        written += plain.copy(out, written, Math.max(0, run.from - frameStart), Math.min(plain.length, run.to - frameStart + 1));
      }
      return written - at;
    } finally {
      sealed.recycle();
    }
  };

  const readInto = async (out: Buffer, start: number, end: number): Promise<void> => {
    let at = 0;
    for (const run of runsOf(meta, start, end)) at += await decryptRun(run, out, at);
  };

  async function* chunks(range?: { start: number; end: number }): AsyncGenerator<PooledBuffer> {
    const { start, end } = bounds(range);
    for (const run of runsOf(meta, start, end)) {
      const chunk = takeBuffer(run.to - run.from + 1);
      try {
        await decryptRun(run, chunk.bytes, 0);
      } catch (err) {
        chunk.recycle();
        throw err;
      }
      yield chunk;
    }
  }

  return {
    meta,
    bytes: () => undefined,
    async read(range) {
      const { start, end } = bounds(range);
      const pooled = takeBuffer(Math.max(0, end - start + 1));
      try {
        await readInto(pooled.bytes, start, end);
        return pooled;
      } catch (err) {
        pooled.recycle();
        throw err;
      }
    },
    async readOwned(range) {
      const { start, end } = bounds(range);
      const out = Buffer.allocUnsafe(Math.max(0, end - start + 1));
      await readInto(out, start, end);
      return out;
    },
    chunks,
    // A stream's reader may hold on to what it was given: its chunks are never handed back to the pool.
    stream: (range) =>
      Readable.from(
        (async function* () {
          for await (const chunk of chunks(range)) yield chunk.bytes;
        })(),
        { objectMode: false },
      ),
    close: () => raw.close(),
  };
}
