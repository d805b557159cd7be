/**
 * Pinned readers: opening an object takes a file descriptor per blob (from the descriptor
 * cache), so its bytes stay readable even if the key is overwritten or deleted and the blob
 * unlinked meanwhile. Every read is positional, so readers can share a descriptor.
 */
import { createReadStream, read as readFd } from 'node:fs';
import { Readable } from 'node:stream';
import type { FdCache, Lease } from './fd-cache.js';
import { takeBuffer } from './buffer-pool.js';
import type { ObjectMeta, ObjectReader } from './types.js';

// Per open stream: 1 MiB reads keep large downloads near the disk and socket's speed (one read,
// one write per MiB); a few dozen concurrent downloads hold a few dozen MiB.
const READ_BUFFER = 1024 * 1024;

export async function openReader(meta: ObjectMeta, pathOf: (blobId: string) => string, fds: FdCache): Promise<ObjectReader> {
  const leases: Lease[] = [];
  try {
    for (const segment of meta.segments) leases.push(await fds.acquire(segment.blobId, pathOf(segment.blobId)));
  } catch (err) {
    leases.forEach((l) => l.release());
    throw err;
  }
  const fdList = leases.map((l) => l.fd);
  let active = 0;
  let closing = false;
  const release = () => {
    if (closing && active === 0) leases.splice(0).forEach((l) => l.release());
  };
  return {
    meta,
    bytes: () => undefined,
    async read(range) {
      const start = range?.start ?? 0;
      const end = range?.end ?? meta.size - 1;
      const pooled = takeBuffer(Math.max(0, end - start + 1));
      const out = pooled.bytes;
      active++;
      try {
        // Straight into the one buffer, segment by segment: no intermediate chunks to copy.
        let filled = 0;
        for (const span of spans(meta, start, end)) {
          await readFully(fdList[span.index]!, out.subarray(filled, filled + span.length), span.position, meta.segments[span.index]!.blobId);
          filled += span.length;
        }
        return pooled;
      } catch (err) {
        pooled.recycle();
        throw err;
      } finally {
        active--;
        release();
      }
    },
    async *chunks(range) {
      const start = range?.start ?? 0;
      const end = range?.end ?? meta.size - 1;
      active++;
      try {
        for (const span of spans(meta, start, end)) {
          for (let done = 0; done < span.length; ) {
            const chunk = takeBuffer(Math.min(READ_BUFFER, span.length - done));
            try {
              await readFully(fdList[span.index]!, chunk.bytes, span.position + done, meta.segments[span.index]!.blobId);
            } catch (err) {
              chunk.recycle();
              throw err;
            }
            done += chunk.bytes.length;
            yield chunk;
          }
        }
      } finally {
        active--;
        release();
      }
    },
    stream(range) {
      const start = range?.start ?? 0;
      const end = range?.end ?? meta.size - 1;
      const stream = end < start ? Readable.from([]) : segmentStream(meta, fdList, start, end);
      active++;
      // A stream read to its end without being destroyed emits 'end' but no 'close'.
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        active--;
        release();
      };
      stream.once('end', finish);
      stream.once('close', finish);
      stream.once('error', finish);
      return stream;
    },
    close() {
      closing = true;
      release();
    },
  };
}

function readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => readFd(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

async function readFully(fd: number, out: Buffer, position: number, blobId: string): Promise<void> {
  let filled = 0;
  while (filled < out.length) {
    const n = await readAt(fd, out, filled, out.length - filled, position + filled);
    if (n === 0) throw new Error(`blob ${blobId} is shorter than recorded`);
    filled += n;
  }
}

/** A reader over bytes already in memory: no descriptors to pin or close. */
export function memoryReader(meta: ObjectMeta, bytes: Buffer): ObjectReader {
  const slice = (range?: { start: number; end: number }) => (range ? bytes.subarray(range.start, range.end + 1) : bytes);
  return {
    meta,
    bytes: slice,
    read: async (range) => ({ bytes: slice(range), recycle: () => undefined }),
    chunks: async function* (range) {
      yield { bytes: slice(range), recycle: () => undefined };
    },
    stream: (range) => Readable.from([slice(range)]),
    close: () => undefined,
  };
}

function segmentStream(meta: ObjectMeta, fds: number[], start: number, end: number): Readable {
  if (fds.length === 1) {
    // With `start` set, the stream reads at its own position: sharing the descriptor is safe.
    return createReadStream('', { fd: fds[0]!, start, end, autoClose: false, emitClose: true, highWaterMark: Math.min(READ_BUFFER, Math.max(end - start + 1, 1)) });
  }
  return Readable.from(readAcross(meta, fds, start, end), { objectMode: false });
}

/** Reads [start, end] across the blobs of a multipart object, one big buffer at a time. */
async function* readAcross(meta: ObjectMeta, fds: number[], start: number, end: number): AsyncGenerator<Buffer> {
  for (const span of spans(meta, start, end)) {
    let position = span.position;
    let left = span.length;
    while (left > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_BUFFER, left));
      const bytesRead = await readAt(fds[span.index]!, buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`blob ${meta.segments[span.index]!.blobId} is shorter than recorded`);
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      position += bytesRead;
      left -= bytesRead;
    }
  }
}

/** The pieces of the object's bytes [start, end] in each segment: which one, where in its blob, how long. */
export function* spans(meta: ObjectMeta, start: number, end: number): Generator<{ index: number; position: number; length: number }> {
  let offset = 0;
  for (let index = 0; index < meta.segments.length && offset <= end; index++) {
    const size = meta.segments[index]!.size;
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + size - 1);
    if (from <= to) yield { index, position: from - offset, length: to - from + 1 };
    offset += size;
  }
}
