/**
 * Open descriptors of recently read blob files, nginx's open_file_cache: a GET of a file-backed
 * object then costs one positional read instead of an open, a read and a close (measured: range
 * GETs about twice as many per second). Blobs are immutable, so a cached descriptor can never
 * show other bytes than the ones its id names. A descriptor in use is never closed under its
 * reader; when this process drops a blob, its descriptor closes once the last reader is done,
 * and descriptors left idle (say, of blobs another worker deleted) close after a while.
 */
import { close, open } from 'node:fs';

const IDLE_MS = 30_000;

interface Entry {
  fd: Promise<number>;
  users: number;
  /** The blob is being deleted: no new users; close when the last one leaves. */
  doomed: boolean;
  lastUsed: number;
}

export interface Lease {
  fd: number;
  release(): void;
}

export class FdCache {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly max = 128) {
    this.sweeper = setInterval(() => this.closeIdle(Date.now() - IDLE_MS), IDLE_MS);
    this.sweeper.unref();
  }

  /** A descriptor of the blob's file, valid until release() (the file may be unlinked meanwhile). */
  async acquire(blobId: string, path: string): Promise<Lease> {
    let entry = this.entries.get(blobId);
    if (entry === undefined || entry.doomed) {
      entry = { fd: openFd(path), users: 0, doomed: false, lastUsed: 0 };
      this.entries.set(blobId, entry);
    } else {
      // Re-inserting keeps the Map in least-recently-used order.
      this.entries.delete(blobId);
      this.entries.set(blobId, entry);
    }
    const held = entry;
    held.users++;
    this.evict();
    let fd: number;
    try {
      fd = await held.fd;
    } catch (err) {
      held.users--;
      if (this.entries.get(blobId) === held) this.entries.delete(blobId);
      throw err;
    }
    let released = false;
    return {
      fd,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        held.lastUsed = Date.now();
        if (held.doomed && held.users === 0) closeFd(held.fd);
      },
    };
  }

  /** The blob's file is going away: its descriptor closes as soon as no reader holds it. */
  forget(blobId: string): void {
    const entry = this.entries.get(blobId);
    if (entry === undefined) return;
    this.entries.delete(blobId);
    this.retire(entry);
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) this.retire(entry);
    this.entries.clear();
  }

  private retire(entry: Entry): void {
    entry.doomed = true;
    if (entry.users === 0) closeFd(entry.fd);
  }

  private evict(): void {
    if (this.entries.size <= this.max) return;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.max) break;
      if (entry.users > 0) continue;
      this.entries.delete(id);
      this.retire(entry);
    }
  }

  private closeIdle(before: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.users === 0 && entry.lastUsed < before) {
        this.entries.delete(id);
        this.retire(entry);
      }
    }
  }
}

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
}

function closeFd(fd: Promise<number>): void {
  fd.then((n) => close(n, () => undefined), () => undefined);
}
