/**
 * Reclaiming what crashes and abandoned uploads leave behind: once at start-up (recover), and
 * stale multipart uploads every hour while the store is open (startSweeper).
 */
import type { BlobStorage } from './blobs.js';
import type { BlobRefs } from './blob-refs.js';
import type { DiskGuard } from './disk-space.js';
import type { Multipart } from './multipart.js';
import type { Db } from './schema.js';

const SWEEP_EVERY_MS = 3600 * 1000;

/** Start-up: finish what a crash interrupted (reference counts at zero, temp files, orphan blobs, stale uploads). */
export async function recover(parts: { db: Db; disk: DiskGuard; blobs: BlobRefs; files: BlobStorage; multipart: Multipart; staleUploadMs: number }): Promise<void> {
  // On a full volume too: the server must come up to let deletes free space.
  parts.disk.withRoom(() => parts.db.transaction(() => parts.blobs.dropDead()).immediate());
  await parts.files.reclaimOrphans((id) => parts.blobs.exists(id));
  void parts.multipart.reclaimStale(parts.staleUploadMs);
}

/** Aborts uploads untouched for staleUploadMs, every hour; returns the function that stops it. */
export function startSweeper(multipart: Multipart, staleUploadMs: number): () => void {
  const timer = setInterval(() => void multipart.reclaimStale(staleUploadMs), SWEEP_EVERY_MS);
  // The sweep alone keeps no process alive.
  timer.unref();
  return () => clearInterval(timer);
}
