/**
 * The sealed reader against the plaintext, over random sizes, segment layouts and ranges (frame
 * boundaries, empty objects, a last frame exactly full): read(), chunks() and stream() give the
 * same bytes as slicing the plaintext, over both kinds of ciphertext reader (bytes in memory, and
 * blob files read through descriptors). And it fails closed: a flipped byte anywhere in a frame
 * (body or tag) or a truncated blob is an error for every range touching it, never other bytes,
 * while ranges that do not touch the damaged frame still read (only the frames needed are read).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cipherSize, FRAME_BYTES, SealingStream, TAG_BYTES } from '../../src/storage/encryption/frames.js';
import { cipherMetaOf, sealedReader } from '../../src/storage/encryption/sealed-reader.js';
import { memoryReader, openReader } from '../../src/storage/reader.js';
import { FdCache } from '../../src/storage/fd-cache.js';
import { S3Error } from '../../src/errors/s3-error.js';
import type { ObjectMeta, ObjectReader } from '../../src/storage/types.js';

const F = FRAME_BYTES;
const dir = mkdtempSync(join(tmpdir(), 'offload-sealed-reader-'));
const fds = new FdCache();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Sealed {
  meta: ObjectMeta;
  plain: Buffer;
  keys: Buffer[];
  /** Each segment's ciphertext, as written by the sealing stream. */
  ciphers: Buffer[];
}

/** Seals `plain` as the writer does, fed in chunks of the given sizes (cycled). */
async function seal(plain: Buffer, key: Buffer, prefix: Buffer, chunkSizes: number[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < plain.length; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    chunks.push(plain.subarray(at, at + size));
    at += size;
  }
  const out: Buffer[] = [];
  const sealing = new SealingStream(key, prefix, () => undefined);
  for await (const piece of Readable.from(chunks, { objectMode: true }).pipe(sealing)) out.push(piece as Buffer);
  return Buffer.concat(out);
}

async function sealedObject(sizes: number[], chunkSizes: number[] = [F]): Promise<Sealed> {
  const keys: Buffer[] = [];
  const ciphers: Buffer[] = [];
  const segments: ObjectMeta['segments'] = [];
  const plains: Buffer[] = [];
  for (const size of sizes) {
    const key = randomBytes(32);
    const prefix = randomBytes(8);
    const plain = randomBytes(size);
    const cipher = await seal(plain, key, prefix, chunkSizes);
    expect(cipher.length).toBe(cipherSize(size));
    keys.push(key);
    ciphers.push(cipher);
    plains.push(plain);
    segments.push({ blobId: `b${segments.length}-${randomBytes(4).toString('hex')}`, size, enc: { key: '', nonce: prefix.toString('base64'), kek: { master: 'test' } } });
  }
  const plain = Buffer.concat(plains);
  const meta = { bucket: 'b', key: 'k', size: plain.length, etag: '""', lastModified: 0, owner: 'o', acl: {}, tags: {}, segments } as unknown as ObjectMeta;
  return { meta, plain, keys, ciphers };
}

type Source = 'memory' | 'files';

async function readerOf(o: Sealed, source: Source): Promise<ObjectReader> {
  const cipherMeta = cipherMetaOf(o.meta);
  if (source === 'memory') return sealedReader(o.meta, memoryReader(cipherMeta, Buffer.concat(o.ciphers)), o.keys);
  const paths = new Map<string, string>();
  o.meta.segments.forEach((s, i) => {
    const path = join(dir, s.blobId);
    writeFileSync(path, o.ciphers[i]!);
    paths.set(s.blobId, path);
  });
  return sealedReader(o.meta, await openReader(cipherMeta, (id) => paths.get(id)!, fds), o.keys);
}

async function viaRead(r: ObjectReader, range?: { start: number; end: number }): Promise<Buffer> {
  const got = await r.read(range);
  const copy = Buffer.from(got.bytes);
  got.recycle();
  return copy;
}

async function viaChunks(r: ObjectReader, range?: { start: number; end: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of r.chunks(range)) {
    expect(chunk.bytes.length).toBeGreaterThan(0);
    expect(chunk.bytes.length).toBeLessThanOrEqual(1024 * 1024);
    parts.push(Buffer.from(chunk.bytes));
    // Recycled at once, as the sender does: later chunks must not share its memory.
    chunk.recycle();
  }
  return Buffer.concat(parts);
}

async function viaStream(r: ObjectReader, range?: { start: number; end: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of r.stream(range)) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

const WAYS = { read: viaRead, chunks: viaChunks, stream: viaStream };

/** Sizes near the places that matter: 0, frame boundaries, the 1 MiB chunk boundary, and anything. */
const sizeArb = fc.oneof(
  fc.constantFrom(0, 1, F - 1, F, F + 1, 2 * F, 15 * F - 1, 15 * F, 15 * F + 1, 16 * F, 16 * F + 1, 30 * F, 33 * F + 7),
  fc.integer({ min: 0, max: 40 * F }),
  fc.integer({ min: 1, max: 5 }).chain((frames) => fc.constantFrom(frames * F - 1, frames * F, frames * F + 1)),
);

/** A range of an object of `size` bytes, often starting or ending on a frame boundary. */
function rangeArb(size: number): fc.Arbitrary<{ start: number; end: number } | undefined> {
  if (size === 0) return fc.constant(undefined);
  const point = fc.oneof(
    fc.integer({ min: 0, max: size - 1 }),
    fc.integer({ min: 0, max: Math.floor((size - 1) / F) }).chain((f) => fc.constantFrom(f * F, f * F - 1, f * F + F - 1).filter((p) => p >= 0 && p < size)),
  );
  return fc.oneof(fc.constant(undefined), fc.tuple(point, point).map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })));
}

describe('sealed reader: the plaintext, whatever the sizes and ranges', () => {
  for (const source of ['memory', 'files'] as const) {
    it(`reads every range of single- and multi-segment objects (${source})`, async () => {
      const layout = fc.record({
        sizes: fc.array(sizeArb, { minLength: 1, maxLength: 3 }),
        chunkSizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 3 * F }), fc.constantFrom(F, 16 * 1024, 1)), { minLength: 1, maxLength: 4 }),
      });
      await fc.assert(
        fc.asyncProperty(
          layout.chain(({ sizes, chunkSizes }) => fc.tuple(fc.constant(sizes), fc.constant(chunkSizes), fc.array(rangeArb(sizes.reduce((a, b) => a + b, 0)), { minLength: 1, maxLength: 4 }))),
          async ([sizes, chunkSizes, ranges]) => {
            // Chunks of 1 byte would make a large object slow to seal; only small ones get them.
            const o = await sealedObject(sizes, sizes.some((s) => s > 4 * F) ? chunkSizes.map((c) => Math.max(c, 4096)) : chunkSizes);
            const r = await readerOf(o, source);
            try {
              for (const range of ranges) {
                const want = range ? o.plain.subarray(range.start, range.end + 1) : o.plain;
                for (const [name, way] of Object.entries(WAYS)) {
                  const got = await way(r, range);
                  if (!got.equals(want)) throw new Error(`${name} of ${JSON.stringify(range)} in segments ${JSON.stringify(sizes)} differs from the plaintext`);
                }
              }
            } finally {
              r.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('reads an empty object as no bytes', async () => {
    const o = await sealedObject([0]);
    for (const source of ['memory', 'files'] as const) {
      const r = await readerOf(o, source);
      for (const way of Object.values(WAYS)) expect((await way(r)).length).toBe(0);
      r.close();
    }
  });

  it('reads objects whose last frame is exactly full, to the last byte', async () => {
    for (const frames of [1, 2, 15, 16, 30]) {
      const o = await sealedObject([frames * F]);
      const r = await readerOf(o, 'files');
      for (const way of Object.values(WAYS)) {
        expect((await way(r)).equals(o.plain)).toBe(true);
        expect((await way(r, { start: frames * F - 1, end: frames * F - 1 })).equals(o.plain.subarray(-1))).toBe(true);
      }
      r.close();
    }
  });
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the read to fail, it gave bytes');
}

function expectIntegrityError(err: unknown): void {
  expect(err).toBeInstanceOf(S3Error);
  expect((err as S3Error).code).toBe('XOffloadIntegrityError');
}

describe('sealed reader: fails closed', () => {
  // 3 full frames and a short last one, 2 segments: the positions worth damaging.
  const SIZES = [3 * F + 1000, 2 * F];

  it('answers a flipped byte in any frame position with an integrity error; other frames still read', async () => {
    const original = await sealedObject(SIZES);
    const quiet = console.error;
    console.error = () => undefined;
    try {
      for (let segment = 0; segment < SIZES.length; segment++) {
        const frames = Math.ceil(SIZES[segment]! / F);
        for (let frame = 0; frame < frames; frame++) {
          const frameLength = Math.min(F, SIZES[segment]! - frame * F);
          // First byte, a middle byte, the last body byte, and a byte of the tag.
          for (const within of [0, frameLength >> 1, frameLength - 1, frameLength + TAG_BYTES - 3]) {
            const ciphers = original.ciphers.map((c) => Buffer.from(c));
            ciphers[segment]![frame * (F + TAG_BYTES) + within]! ^= 0x40;
            const damaged = { ...original, ciphers };
            const base = SIZES.slice(0, segment).reduce((a, b) => a + b, 0);
            const frameStart = base + frame * F;
            const touching = { start: frameStart + Math.min(within, frameLength - 1), end: frameStart + Math.min(within, frameLength - 1) };
            for (const source of ['memory', 'files'] as const) {
              const r = await readerOf(damaged, source);
              try {
                for (const way of Object.values(WAYS)) {
                  expectIntegrityError(await failure(way(r)));
                  expectIntegrityError(await failure(way(r, touching)));
                }
                // A range ending just before the damaged frame never reads it.
                if (frameStart > 0) expect((await viaRead(r, { start: 0, end: frameStart - 1 })).equals(original.plain.subarray(0, frameStart))).toBe(true);
                const after = frameStart + frameLength;
                if (after < original.plain.length) expect((await viaChunks(r, { start: after, end: original.plain.length - 1 })).equals(original.plain.subarray(after))).toBe(true);
              } finally {
                r.close();
              }
            }
          }
        }
      }
    } finally {
      console.error = quiet;
    }
  });

  it('refuses a frame moved to another place, or a segment cut at a frame boundary', async () => {
    const original = await sealedObject([3 * F]);
    const quiet = console.error;
    console.error = () => undefined;
    try {
      const c = original.ciphers[0]!;
      const frame = (i: number) => c.subarray(i * (F + TAG_BYTES), (i + 1) * (F + TAG_BYTES));
      // Frames 0 and 1 swapped (each well-formed, in the wrong place).
      const swapped = { ...original, ciphers: [Buffer.concat([frame(1), frame(0), frame(2)])] };
      const r = await readerOf(swapped, 'memory');
      expectIntegrityError(await failure(viaRead(r, { start: 0, end: 10 })));
      expectIntegrityError(await failure(viaRead(r, { start: F, end: F + 10 })));
      // The last frame dropped, the metadata claiming 2 frames: frame 1 is not marked last.
      const cut = await sealedObject([3 * F]);
      cut.meta.segments[0]!.size = 2 * F;
      cut.meta.size = 2 * F;
      cut.ciphers = [cut.ciphers[0]!.subarray(0, 2 * (F + TAG_BYTES))];
      const rc = await readerOf(cut, 'memory');
      expectIntegrityError(await failure(viaRead(rc, { start: F, end: F + 10 })));
    } finally {
      console.error = quiet;
    }
  });

  it('fails on a truncated blob, for every way of reading', async () => {
    const quiet = console.error;
    console.error = () => undefined;
    try {
      for (const cutBytes of [1, TAG_BYTES, TAG_BYTES + 1, 1000 + TAG_BYTES, F + 1000 + 2 * TAG_BYTES]) {
        const o = await sealedObject([3 * F + 1000]);
        const whole = o.ciphers[0]!;
        o.ciphers = [whole.subarray(0, whole.length - cutBytes)];
        for (const source of ['memory', 'files'] as const) {
          const r = await readerOf(o, source);
          try {
            for (const way of Object.values(WAYS)) {
              const err = await failure(way(r));
              // Bytes in memory: a frame of the wrong length fails its check; a file read stops short.
              if (source === 'memory') expectIntegrityError(err);
              else expect(err).toBeInstanceOf(Error);
              await failure(way(r, { start: 3 * F + 999, end: 3 * F + 999 }));
            }
            expect((await viaRead(r, { start: 0, end: 2 * F - 1 })).equals(o.plain.subarray(0, 2 * F))).toBe(true);
          } finally {
            r.close();
          }
        }
      }
    } finally {
      console.error = quiet;
    }
  });
});
