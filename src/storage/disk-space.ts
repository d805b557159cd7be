/**
 * Free space on the data folder's volume. Object writes are refused while the volume has less
 * than the --min-free-space threshold free, so that the metadata commits of deletes always find
 * room; and a space reserve file is kept in the data folder, released the moment a commit fails
 * for want of space (another program filled the volume, or uploads in flight overshot the
 * threshold), so that SQLite can still commit the deletes that free space. Writes resume by
 * themselves once there is room for the threshold and the reserve again; each change of state
 * is logged in one line.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, openSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from './permissions.js';
import { parseByteSize } from '../util/size.js';

/** `--min-free-space`: bytes, or a share of the volume's size. */
export type MinFreeSpace = { bytes: number } | { percent: number };

/** The default: 5% of the volume, at most 1 GiB (3.2 MiB on a 64 MiB volume, 1 GiB from 20 GiB up). */
export const DEFAULT_MIN_FREE: MinFreeSpace = { percent: 5 };
const DEFAULT_CAP = 1024 ** 3;
/** Enough for thousands of delete commits (each a few pages of WAL). */
const RESERVE_BYTES = 4 * 1024 * 1024;
/**
 * statfs is cheap, but not free on every PUT: one look per second, and at once after ENOSPC or
 * when the bytes written since the last look may have brought the volume near the threshold
 * (a fast client writes many MiB in a second).
 */
const RECHECK_MS = 1000;
const NEAR_MARGIN = 256 * 1024 * 1024;

/** Parses `512MiB`, `1GB`, `0` (no threshold) or `10%`. */
export function parseMinFreeSpace(text: string): MinFreeSpace {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (percent && Number(percent[1]) < 100) return { percent: Number(percent[1]) };
  const bytes = parseByteSize(text);
  if (bytes !== undefined) return { bytes };
  throw new Error(`--min-free-space must be a size (512MiB, 2GB, 0) or a percentage of the volume (5%), got "${text}"`);
}

/** Which kind of storage failure an error is, if any: no room (ENOSPC, EDQUOT, SQLITE_FULL) or a failing disk. */
export function storageFailureOf(err: unknown): 'full' | 'io' | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || code === 'XOffloadStorageFull') return 'full';
  if (code === 'EIO' || code === 'EROFS' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY') return 'io';
  return undefined;
}

/** Thrown before an object write is accepted while the volume is below its threshold. */
export class StorageFullError extends Error {
  readonly code = 'XOffloadStorageFull';
}

export class DiskGuard {
  private readonly reserveFile: string;
  private readonly threshold: number;
  private checkedAt = -Infinity;
  private full = false;
  /** Free bytes at the last look, and bytes written since. */
  private lastFree = 0;
  private writtenSince = 0;

  constructor(private readonly dataDir: string, minFree: MinFreeSpace = DEFAULT_MIN_FREE, private readonly log: (line: string) => void = (line) => console.error(line)) {
    this.reserveFile = join(dataDir, 'space-reserve');
    this.threshold = thresholdBytes(dataDir, minFree);
    // At start-up rather than in the first PUT: the reserve costs a 4 MiB write and an fsync.
    this.measure(Date.now());
  }

  /** Before an object's bytes are accepted: throws StorageFullError while below the threshold. */
  assertRoomForWrite(): void {
    const now = Date.now();
    if (now - this.checkedAt >= RECHECK_MS || this.lastFree - this.writtenSince < this.threshold + RESERVE_BYTES + NEAR_MARGIN) this.measure(now);
    if (this.full) throw new StorageFullError(`the data folder's volume is below its minimum free space`);
  }

  /** An object's bytes were written (to a file or into the database). */
  noteWritten(bytes: number): void {
    this.writtenSince += bytes;
  }

  /** A write or a commit failed for want of space: stop accepting writes now, and look again at the next one. */
  noteFull(): void {
    this.checkedAt = -Infinity;
    this.enter(true, freeBytes(this.dataDir) ?? 0);
  }

  /**
   * Runs a commit; when it fails for want of space, releases the space reserve and runs it once
   * more, so that deletes (and the commits of bytes already written) go through on a full disk.
   * A failed SQLite transaction rolled back whole, so running it again is safe.
   */
  withRoom<T>(commit: (lastTry: boolean) => T): T {
    try {
      return commit(false);
    } catch (err) {
      if (storageFailureOf(err) !== 'full') throw err;
      this.releaseReserve();
      return commit(true);
    }
  }

  /** Unlinks the reserve (if it is still there) so that a commit that failed for want of space can be run again into its room. */
  releaseReserve(): void {
    this.noteFull();
    try {
      rmSync(this.reserveFile);
    } catch {
      return;
    }
    this.log(`offload: data folder ${this.dataDir}: released the ${mib(RESERVE_BYTES)} space reserve so that deletes can commit`);
  }

  private measure(now: number): void {
    this.checkedAt = now;
    const free = freeBytes(this.dataDir);
    if (free === undefined) return;
    this.lastFree = free;
    this.writtenSince = 0;
    const reserveMissing = !existsSync(this.reserveFile);
    // Writes resume only once the reserve fits again with the threshold left over, and with a
    // reserve's worth more than that: a volume hovering at the threshold (or at ENOSPC with
    // --min-free-space 0) must not flip between the two states, and log, on every request.
    const room = free - (reserveMissing ? RESERVE_BYTES : 0);
    let full = room < this.threshold + (this.full ? RESERVE_BYTES : 0);
    if (!full && reserveMissing && !this.makeReserve()) full = true;
    this.enter(full, free);
  }

  private enter(full: boolean, free: number): void {
    if (full === this.full) return;
    this.full = full;
    if (full) {
      this.log(`offload: data folder ${this.dataDir}: ${mib(free)} free, below the minimum of ${mib(this.threshold)} (--min-free-space); refusing new object writes (507 XOffloadStorageFull) until space is freed; deletes still work`);
    } else {
      this.log(`offload: data folder ${this.dataDir}: ${mib(free)} free; accepting object writes again`);
    }
  }

  /**
   * Written with random bytes (zeros would take no room on a compressing file system) under tmp/
   * (so that a crash half-way leaves nothing the start-up reclaim does not remove), then renamed
   * into place.
   */
  private makeReserve(): boolean {
    const temp = join(this.dataDir, 'tmp', `space-reserve.${process.pid}`);
    let fd: number | undefined;
    try {
      fd = openSync(temp, 'w', PRIVATE_FILE_MODE);
      const chunk = randomBytes(1024 * 1024);
      for (let written = 0; written < RESERVE_BYTES; written += chunk.length) writeSync(fd, chunk);
      fdatasyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(temp, this.reserveFile);
      return true;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(temp, { force: true });
      return false;
    }
  }
}

/** Bytes an unprivileged process may still write on the volume (statfs f_bavail). */
function freeBytes(dataDir: string): number | undefined {
  try {
    const st = statfsSync(dataDir);
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

function thresholdBytes(dataDir: string, minFree: MinFreeSpace): number {
  if ('bytes' in minFree) return minFree.bytes;
  try {
    const st = statfsSync(dataDir);
    const share = Math.round((st.blocks * st.bsize * minFree.percent) / 100);
    return minFree === DEFAULT_MIN_FREE ? Math.min(share, DEFAULT_CAP) : share;
  } catch {
    return 0;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
