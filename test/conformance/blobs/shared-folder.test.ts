/**
 * The blob contract against a folder several nodes share (`--blobs /mnt/shared/blobs`), and what
 * sharing adds: nodes writing at once never collide, and one node's start-up cleanup spares
 * what another is about to commit (the grace period).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlobFiles } from '../../../src/storage/blobs.js';
import { openBlobStorage } from '../../../src/storage/blob-backends/open.js';
import { runBlobConformance } from './blob-contract.js';

runBlobConformance('shared folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-shared-blobs-'));
  return {
    blobs: new BlobFiles(dir, { orphanGraceMs: 0 }),
    reopen: async () => new BlobFiles(dir, { orphanGraceMs: 0 }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('shared folder: several nodes', () => {
  it('nodes writing at once get distinct blobs, each readable from every node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-shared-blobs-'));
    const nodes = [0, 1, 2].map(() => openBlobStorage(dir));
    const bodies = Array.from({ length: 30 }, () => randomBytes(100_000));
    const written = await Promise.all(bodies.map(async (b, i) => {
      const blob = await nodes[i % 3]!.write(Readable.from([b]));
      await nodes[i % 3]!.place(blob);
      return blob;
    }));
    expect(new Set(written.map((b) => b.id)).size).toBe(30);
    for (const [i, blob] of written.entries()) expect((await nodes[(i + 1) % 3]!.readRange(blob.id, { start: 0, end: 99_999 })).equals(bodies[i]!)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a node's start-up cleanup spares another node's young temp and placed blobs", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-shared-blobs-'));
    const writer = openBlobStorage(dir);
    const unplaced = await writer.write(Readable.from([randomBytes(1000)]));
    const placed = await writer.write(Readable.from([randomBytes(1000)]));
    await writer.place(placed);
    const starting = openBlobStorage(dir);
    expect(await starting.reclaimOrphans(() => false)).toEqual({ temp: 0, orphans: 0 });
    await writer.place(unplaced);
    expect((await writer.readRange(unplaced.id, { start: 0, end: 9 })).length).toBe(10);
    expect((await writer.readRange(placed.id, { start: 0, end: 9 })).length).toBe(10);
    rmSync(dir, { recursive: true, force: true });
  });
});
