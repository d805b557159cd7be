/**
 * The fsync of a group commit, off the event loop. With synchronous=FULL, SQLite fsyncs the WAL
 * inside COMMIT, on the main thread: under a mixed load that was about a quarter of the server's
 * time (5 ms per group commit here), during which no GET could be answered. Group commits
 * (commit.ts) instead run at synchronous=NORMAL, which writes the same WAL frames without the
 * fsync, and then fdatasync the WAL file here, on libuv's thread pool; a write is reported
 * done, and the blob files it dropped are unlinked, only once that fdatasync has returned, so it
 * is exactly as durable as before. In WAL mode FULL and NORMAL differ only in that per-commit
 * sync: checkpoints still sync the WAL first and the database after. Writes that arrive while a
 * sync runs wait for it to end (whenIdle) and then commit together: as many per transaction as
 * when the fsync blocked the loop, so no more WAL pages are written than before.
 */
import { close, fdatasync, open } from 'node:fs';

export class WalSync {
  private fd: Promise<number> | undefined;
  private running = false;
  private waiting: ((err: Error | undefined) => void)[] = [];
  private idle: (() => void)[] = [];

  constructor(private readonly walPath: string) {}

  /** Calls `done` once every WAL frame written before this call is on disk (or the sync failed). */
  afterSync(done: (err: Error | undefined) => void): void {
    this.waiting.push(done);
    if (!this.running) this.start();
  }

  get busy(): boolean {
    return this.running;
  }

  /** Runs `fn` once no sync is under way (now, if none is). */
  whenIdle(fn: () => void): void {
    if (this.running) this.idle.push(fn);
    else fn();
  }

  /** Waits for the syncs under way, then closes the WAL descriptor. */
  async close(): Promise<void> {
    // An idle callback may start another sync (the commits that waited): wait for that too.
    while (this.running) await new Promise<void>((r) => this.idle.push(r));
    const fd = this.fd;
    this.fd = undefined;
    if (fd) await fd.then((n) => new Promise<void>((r) => close(n, () => r())), () => undefined);
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    // Opened once the database has written to its WAL (the file exists from the first commit on).
    this.fd ??= new Promise<number>((resolve, reject) => open(this.walPath, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
    const finish = (err: Error | undefined) => {
      for (const done of batch) done(err);
      if (this.waiting.length > 0) {
        this.start();
        return;
      }
      this.running = false;
      for (const r of this.idle.splice(0)) r();
    };
    this.fd.then(
      (fd) => fdatasync(fd, (err) => finish(err ?? undefined)),
      (err: Error) => {
        this.fd = undefined;
        finish(err);
      },
    );
  }
}
