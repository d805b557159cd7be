/**
 * Pinned readers: opening an object opens a file descriptor per blob, so its bytes stay
 * readable even if the key is overwritten or deleted and the blob unlinked meanwhile.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ObjectMeta, ObjectReader } from './types.js';

// Per open stream: 1 MiB reads keep large downloads near the disk and socket's speed (one read,
// one write per MiB); a few dozen concurrent downloads hold a few dozen MiB.
const READ_BUFFER = 1024 * 1024;

export async function openReader(meta: ObjectMeta, pathOf: (blobId: string) => string): Promise<ObjectReader> {
  const handles: FileHandle[] = [];
  try {
    for (const segment of meta.segments) handles.push(await open(pathOf(segment.blobId), 'r'));
  } catch (err) {
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
    throw err;
  }
  let active = 0;
  let closing = false;
  const release = () => {
    if (closing && active === 0) {
      handles.splice(0).forEach((h) => void h.close().catch(() => undefined));
    }
  };
  return {
    meta,
    bytes: () => undefined,
    async read(range) {
      const start = range?.start ?? 0;
      const end = range?.end ?? meta.size - 1;
      const out = Buffer.allocUnsafe(Math.max(0, end - start + 1));
      let filled = 0;
      if (handles.length === 1) {
        while (filled < out.length) {
          const { bytesRead } = await handles[0]!.read(out, filled, out.length - filled, start + filled);
          if (bytesRead === 0) throw new Error(`blob ${meta.segments[0]!.blobId} is shorter than recorded`);
          filled += bytesRead;
        }
        return out;
      }
      for await (const chunk of readAcross(meta, handles, start, end)) {
        chunk.copy(out, filled);
        filled += chunk.length;
      }
      return out;
    },
    stream(range) {
      const start = range?.start ?? 0;
      const end = range?.end ?? meta.size - 1;
      const stream = end < start ? Readable.from([]) : segmentStream(meta, handles, start, end);
      active++;
      stream.once('close', () => {
        active--;
        release();
      });
      return stream;
    },
    close() {
      closing = true;
      release();
    },
  };
}

/** A reader over bytes already in memory: no descriptors to pin or close. */
export function memoryReader(meta: ObjectMeta, bytes: Buffer): ObjectReader {
  const slice = (range?: { start: number; end: number }) => (range ? bytes.subarray(range.start, range.end + 1) : bytes);
  return {
    meta,
    bytes: slice,
    read: async (range) => slice(range),
    stream: (range) => Readable.from([slice(range)]),
    close: () => undefined,
  };
}

function segmentStream(meta: ObjectMeta, handles: FileHandle[], start: number, end: number): Readable {
  if (handles.length === 1) {
    return handles[0]!.createReadStream({ start, end, autoClose: false, highWaterMark: Math.min(READ_BUFFER, Math.max(end - start + 1, 1)) });
  }
  return Readable.from(readAcross(meta, handles, start, end), { objectMode: false });
}

/** Reads [start, end] across the blobs of a multipart object, one big buffer at a time. */
async function* readAcross(meta: ObjectMeta, handles: FileHandle[], start: number, end: number): AsyncGenerator<Buffer> {
  let offset = 0;
  for (let i = 0; i < meta.segments.length; i++) {
    const size = meta.segments[i]!.size;
    const segStart = Math.max(start, offset);
    const segEnd = Math.min(end, offset + size - 1);
    if (segStart <= segEnd) {
      let position = segStart - offset;
      let left = segEnd - segStart + 1;
      while (left > 0) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_BUFFER, left));
        const { bytesRead } = await handles[i]!.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) throw new Error(`blob ${meta.segments[i]!.blobId} is shorter than recorded`);
        yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
        position += bytesRead;
        left -= bytesRead;
      }
    }
    offset += size;
    if (offset > end) break;
  }
}
