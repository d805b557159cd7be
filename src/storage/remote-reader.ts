/**
 * Readers of objects whose blobs live in a remote backend (an S3 bucket): no descriptors to
 * pin, so the reader keeps the blobs pinned in this process (blob-refs.ts) until it is closed,
 * and every read is a ranged read of the backend (one GET per segment the range touches).
 */
import { Readable } from 'node:stream';
import type { BlobStorage } from './blobs.js';
import type { PooledBuffer } from './buffer-pool.js';
import { spans } from './reader.js';
import type { ObjectMeta, ObjectReader } from './types.js';

const unpooled = (bytes: Buffer): PooledBuffer => ({ bytes, recycle: () => undefined });

export function remoteReader(meta: ObjectMeta, blobs: BlobStorage, release: () => void): ObjectReader {
  let active = 0;
  let closing = false;
  let released = false;
  const done = () => {
    if (closing && active === 0 && !released) {
      released = true;
      release();
    }
  };
  const whole = (range?: { start: number; end: number }) => ({ start: range?.start ?? 0, end: range?.end ?? meta.size - 1 });
  async function* pieces(range: { start: number; end: number }): AsyncGenerator<Buffer> {
    for (const span of spans(meta, range.start, range.end)) {
      const blobId = meta.segments[span.index]!.blobId;
      for await (const chunk of blobs.readStream(blobId, { start: span.position, end: span.position + span.length - 1 }) as AsyncIterable<Buffer>) yield chunk;
    }
  }
  async function* tracked<T>(inner: AsyncIterable<T>): AsyncGenerator<T> {
    active++;
    try {
      yield* inner;
    } finally {
      active--;
      done();
    }
  }
  return {
    meta,
    bytes: () => undefined,
    async read(range) {
      const { start, end } = whole(range);
      active++;
      try {
        const parts: Buffer[] = [];
        for (const span of spans(meta, start, end)) {
          parts.push(await blobs.readRange(meta.segments[span.index]!.blobId, { start: span.position, end: span.position + span.length - 1 }));
        }
        return unpooled(Buffer.concat(parts));
      } finally {
        active--;
        done();
      }
    },
    chunks(range) {
      return (async function* () {
        for await (const chunk of tracked(pieces(whole(range)))) yield unpooled(chunk);
      })();
    },
    stream(range) {
      return Readable.from(tracked(pieces(whole(range))), { objectMode: false });
    },
    close() {
      closing = true;
      done();
    },
  };
}
