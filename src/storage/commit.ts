/**
 * How every change reaches the disk, shared by objects, buckets and multipart uploads.
 *
 * Every byte-writing operation follows one order: stream the bytes to a temp file, fsync, check
 * (beforeCommit), rename into blobs/ and fsync the directory, then one metadata transaction that
 * makes the new version visible and drops the old one's references. A crash before the commit
 * leaves the old version and an orphan file (reclaimed at start-up); after it, the new version.
 * Files a commit leaves unreferenced are unlinked only once that commit is durable.
 */
import type { Readable } from 'node:stream';
import type { Statement } from 'better-sqlite3';
import type { BlobStorage, WrittenBlob } from './blobs.js';
import type { BlobRefs } from './blob-refs.js';
import { storageFailureOf, type DiskGuard } from './disk-space.js';
import type { Db } from './schema.js';
import type { EncryptionRequest, PutObjectInput, Segment } from './types.js';
import { Sealer } from './encryption/sealer.js';
import { writeSealedAsIs } from './encryption/sealed-transfer.js';
import { WalSync } from './wal-sync.js';

type Pending = { fn: () => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void };
type Outcome = { ok: boolean; value: unknown };

export class Commits {
  private pending: Pending[] = [];
  /** While a transaction runs: the blob files it dropped, to unlink once it is durable. */
  private releasing: string[] | undefined;
  private flushQueued = false;
  private readonly walSync: WalSync;
  private readonly syncNormal: Statement;
  private readonly syncFull: Statement;

  constructor(readonly db: Db, readonly blobs: BlobRefs, private readonly files: BlobStorage, private readonly disk: DiskGuard, readonly sealer = new Sealer()) {
    this.walSync = new WalSync(`${db.name}-wal`);
    // Group commits sync the WAL themselves, off the event loop (wal-sync.ts).
    this.syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.syncFull = db.prepare('PRAGMA synchronous = FULL');
  }

  /** Whether a transaction is under way: what this connection reads now may still be rolled back. */
  get inTransaction(): boolean {
    return this.releasing !== undefined;
  }

  /** The shared head of every byte-writing operation: refused below the free-space threshold. */
  async writeBlob(body: Readable, opts: { inline?: boolean; encryption?: EncryptionRequest } = {}): Promise<WrittenBlob> {
    // Refused without reading the body: a client that sent Expect: 100-continue sends none, and
    // the error response closes the connection (respond.ts) instead of draining an upload.
    this.disk.assertRoomForWrite();
    try {
      const sealed = opts.encryption?.sealed;
      const blob = sealed ? await writeSealedAsIs(this.files, body, opts, sealed) : opts.encryption ? await this.sealer.write(this.files, body, opts, opts.encryption) : await this.files.write(body, opts);
      this.disk.noteWritten(blob.size);
      return blob;
    } catch (err) {
      if (storageFailureOf(err) === 'full') this.disk.noteFull();
      throw err;
    }
  }

  /**
   * The shared tail of every byte-writing operation: verify, place the file, then run `commit`
   * in one group commit with the blob registered. Empty bodies need no file at all.
   */
  async commitBlob<T>(blob: WrittenBlob, beforeCommit: PutObjectInput['beforeCommit'], commit: (segments: Segment[]) => T): Promise<T> {
    try {
      await beforeCommit?.({ md5: blob.md5, size: blob.size });
      if (blob.size === 0) {
        await this.files.discard(blob);
        return await this.groupCommit(() => commit([]));
      }
      await this.files.place(blob).catch((err: unknown) => {
        if (storageFailureOf(err) === 'full') this.disk.noteFull();
        throw err;
      });
      return await this.groupCommit(() => commit(this.blobs.register(blob)));
    } catch (err) {
      await this.files.discard(blob);
      throw err;
    }
  }

  /** Inside a transaction: drop one reference to each segment's blob (files go once the transaction is durable). */
  unref(segments: Segment[]): void {
    this.blobs.unref(segments, (id) => this.releasing?.push(id));
  }

  ref(segments: Segment[]): void {
    this.blobs.ref(segments);
  }

  /**
   * Runs fn in a transaction, then unlinks the blobs it left unreferenced. IMMEDIATE: the write
   * lock is taken up front, so another worker's commit makes us wait (busy_timeout) instead of
   * failing our transaction half-way with SQLITE_BUSY.
   */
  transaction<T>(fn: () => T): T {
    if (this.releasing) return fn();
    const released: string[] = [];
    this.releasing = released;
    try {
      return this.disk.withRoom(() => {
        released.length = 0;
        return this.db.transaction(fn).immediate();
      });
    } catch (err) {
      released.length = 0;
      throw err;
    } finally {
      this.releasing = undefined;
      for (const id of released) this.blobs.unlink(id);
    }
  }

  /**
   * Group commit: the metadata changes of every write that reaches this point in the same turn of
   * the event loop share one transaction, so one fsync of the WAL makes all of them durable. Each
   * runs in its own savepoint: one failing (a precondition, a vanished bucket) leaves the others.
   * Every promise settles only after the shared commit, which is what makes the write durable.
   */
  groupCommit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Commits what is pending now (closing the store), then waits for the WAL syncs under way. */
  async close(): Promise<void> {
    this.flush();
    await this.walSync.close();
  }

  private flush(): void {
    if (this.walSync.busy) {
      // They would wait for the next sync anyway: commit them together once this one ends.
      if (!this.flushQueued) {
        this.flushQueued = true;
        this.walSync.whenIdle(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
      return;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (!this.db.open) {
      for (const item of batch) item.reject(new Error('the store is closed'));
      return;
    }
    const outcomes: Outcome[] = [];
    const released: string[] = [];
    this.releasing = released;
    this.syncNormal.run();
    try {
      this.disk.withRoom((lastTry) => this.runBatch(batch, outcomes, released, lastTry));
    } catch (err) {
      this.releasing = undefined;
      for (const item of batch) item.reject(err);
      return;
    } finally {
      this.syncFull.run();
    }
    this.releasing = undefined;
    // Durable only once the WAL is synced: until then neither an answer nor an unlink.
    this.walSync.afterSync((err) => {
      if (err) {
        // Unknown whether it is on disk: the dropped files stay (start-up reclaims orphans).
        for (const item of batch) item.reject(err);
        return;
      }
      for (const id of released) this.blobs.unlink(id);
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.value);
      });
    });
  }

  /** One transaction for the batch, each write in its own savepoint; fills outcomes and released afresh. */
  private runBatch(batch: Pending[], outcomes: Outcome[], released: string[], lastTry: boolean): void {
    outcomes.length = 0;
    released.length = 0;
    this.db.transaction(() => {
      for (const item of batch) {
        const mark = released.length;
        try {
          outcomes.push({ ok: true, value: this.db.transaction(item.fn)() });
        } catch (err) {
          released.length = mark;
          outcomes.push({ ok: false, value: err });
        }
      }
      // One write that found no room: roll the batch back and run it again into the reserve.
      const noRoom = outcomes.find((o) => !o.ok && storageFailureOf(o.value) === 'full');
      if (noRoom && !lastTry) throw noRoom.value;
    }).immediate();
  }
}
