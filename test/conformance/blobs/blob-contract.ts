/**
 * The blob storage contract (BlobStorage in src/storage/blobs.ts), written against the interface
 * only, so that another place for blob bytes (a remote object service) can run it unchanged:
 * call runBlobConformance with a function that opens a fresh, empty one.
 */
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobStorage } from '../../../src/storage/blobs.js';

export interface BlobFixture {
  blobs: BlobStorage;
  /** Opens the same storage again, as after a restart. */
  reopen?: () => Promise<BlobStorage>;
  /**
   * write() leaves the blob at its final place (an object store: the acknowledged PUT is the
   * durable step), so a blob written but never placed is an orphan, not a temp blob.
   */
  placesOnWrite?: boolean;
  cleanup: () => Promise<void>;
}

const LARGE = 3 * 1024 * 1024 + 17;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

function failingBody(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(new Error('client went away'));
      else {
        sent = true;
        this.push(bytes);
      }
    },
  });
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

export function runBlobConformance(name: string, open: () => Promise<BlobFixture>): void {
  describe(`BlobStorage contract: ${name}`, () => {
    let fixture: BlobFixture | undefined;
    const fresh = async () => (fixture = await open());
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('writes, places and reads back whole blobs and ranges, with size and MD5', async () => {
      const { blobs } = await fresh();
      const bytes = randomBytes(LARGE);
      const blob = await blobs.write(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
      expect(blob.size).toBe(LARGE);
      expect(blob.md5.equals(md5(bytes))).toBe(true);
      await blobs.place(blob);
      expect((await blobs.readRange(blob.id, { start: 0, end: LARGE - 1 })).equals(bytes)).toBe(true);
      expect((await blobs.readRange(blob.id, { start: 12345, end: 2_000_000 })).equals(bytes.subarray(12345, 2_000_001))).toBe(true);
      expect((await blobs.readRange(blob.id, { start: LARGE - 1, end: LARGE - 1 })).equals(bytes.subarray(LARGE - 1))).toBe(true);
    });

    it('streams whole blobs and ranges, and an empty range', async () => {
      const { blobs } = await fresh();
      const bytes = randomBytes(LARGE);
      const blob = await blobs.write(Readable.from([bytes]));
      await blobs.place(blob);
      expect((await collect(blobs.readStream(blob.id, { start: 0, end: LARGE - 1 }))).equals(bytes)).toBe(true);
      expect((await collect(blobs.readStream(blob.id, { start: 100, end: 1_500_000 }))).equals(bytes.subarray(100, 1_500_001))).toBe(true);
      expect((await collect(blobs.readStream(blob.id, { start: 5, end: 4 }))).length).toBe(0);
      expect((await blobs.readRange(blob.id, { start: 5, end: 4 })).length).toBe(0);
    });

    it('a stream of a blob that is gone errors with ENOENT', async () => {
      const { blobs } = await fresh();
      const blob = await blobs.write(Readable.from([randomBytes(1000)]));
      await blobs.place(blob);
      await blobs.remove(blob.id);
      await expect(collect(blobs.readStream(blob.id, { start: 0, end: 999 }))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a stream destroyed early is fine, and the blob still reads', async () => {
      const { blobs } = await fresh();
      const bytes = randomBytes(LARGE);
      const blob = await blobs.write(Readable.from([bytes]));
      await blobs.place(blob);
      const stream = blobs.readStream(blob.id, { start: 0, end: LARGE - 1 });
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.destroy();
      expect((await blobs.readRange(blob.id, { start: 0, end: 9 })).equals(bytes.subarray(0, 10))).toBe(true);
    });

    it('gives every blob its own id', async () => {
      const { blobs } = await fresh();
      const written = await Promise.all(Array.from({ length: 50 }, () => blobs.write(Readable.from([randomBytes(100)]))));
      expect(new Set(written.map((b) => b.id)).size).toBe(50);
      await Promise.all(written.map((b) => blobs.discard(b)));
    });

    it('with inline, keeps a small body in memory and makes no blob of it', async () => {
      const { blobs } = await fresh();
      const small = randomBytes(1000);
      const blob = await blobs.write(Readable.from([small]), { inline: true });
      expect(blob.data?.equals(small)).toBe(true);
      expect(blob.md5.equals(md5(small))).toBe(true);
      await blobs.place(blob);
      expect(await blobs.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 0 });
      const empty = await blobs.write(Readable.from([]), { inline: true });
      expect(empty.size).toBe(0);
    });

    it('a body that fails half-way leaves nothing behind', async () => {
      const { blobs } = await fresh();
      await expect(blobs.write(failingBody(randomBytes(LARGE)))).rejects.toThrow('client went away');
      expect(await blobs.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 0 });
    });

    it('discards and removes: the bytes are gone, and removing twice is fine', async () => {
      const { blobs } = await fresh();
      const unplaced = await blobs.write(Readable.from([randomBytes(LARGE)]));
      await blobs.discard(unplaced);
      const placed = await blobs.write(Readable.from([randomBytes(LARGE)]));
      await blobs.place(placed);
      await blobs.remove(placed.id);
      await blobs.remove(placed.id);
      await expect(blobs.readRange(placed.id, { start: 0, end: 10 })).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await blobs.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 0 });
    });

    it('start-up cleanup reclaims unplaced temp blobs and placed blobs nothing names, and keeps the rest', async () => {
      const f = await fresh();
      const kept = randomBytes(LARGE);
      const keep = await f.blobs.write(Readable.from([kept]));
      await f.blobs.place(keep);
      const orphan = await f.blobs.write(Readable.from([randomBytes(LARGE)]));
      await f.blobs.place(orphan);
      await f.blobs.write(Readable.from([randomBytes(LARGE)]));
      const blobs = f.reopen ? await f.reopen() : f.blobs;
      expect(await blobs.reclaimOrphans((id) => id === keep.id)).toEqual(f.placesOnWrite ? { temp: 0, orphans: 2 } : { temp: 1, orphans: 1 });
      expect((await blobs.readRange(keep.id, { start: 0, end: LARGE - 1 })).equals(kept)).toBe(true);
      await expect(blobs.readRange(orphan.id, { start: 0, end: 0 })).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await blobs.reclaimOrphans((id) => id === keep.id)).toEqual({ temp: 0, orphans: 0 });
    });
  });
}
