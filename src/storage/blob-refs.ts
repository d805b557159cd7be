/**
 * Blob reference counts. Blobs are immutable and shared: a copy references its source's blobs,
 * a completed multipart object its parts' blobs. A blob whose count drops to zero loses its row
 * in the dropping transaction; its file is unlinked only after that transaction is durable
 * (commit.ts), and, while a reader is still opening it (pinned), once the reader has it open.
 */
import type { Statement } from 'better-sqlite3';
import type { BlobCache } from './blob-cache.js';
import type { BlobStorage, WrittenBlob } from './blobs.js';
import type { FdCache } from './fd-cache.js';
import type { Db } from './schema.js';
import type { Segment } from './types.js';

export class BlobRefs {
  private readonly pins = new Map<string, number>();
  private readonly unlinkWhenUnpinned = new Set<string>();
  private readonly sql: {
    insertBlob: Statement;
    addRef: Statement;
    getRefs: Statement<[string], { refs: number }>;
    deleteBlob: Statement;
    insertInline: Statement;
    getInline: Statement<[string], Buffer>;
    deleteInline: Statement;
    deadInline: Statement;
    blobExists: Statement<[string], { one: number }>;
    deadBlobs: Statement<[], { id: string }>;
  };

  constructor(db: Db, readonly files: BlobStorage, readonly cache: BlobCache, readonly fds: FdCache) {
    this.sql = {
      insertBlob: db.prepare('INSERT INTO blobs (id, size, refs) VALUES (?, ?, 1)'),
      addRef: db.prepare('UPDATE blobs SET refs = refs + ? WHERE id = ?'),
      getRefs: db.prepare('SELECT refs FROM blobs WHERE id = ?'),
      deleteBlob: db.prepare('DELETE FROM blobs WHERE id = ?'),
      insertInline: db.prepare('INSERT INTO inline_blobs (id, data) VALUES (?, ?)'),
      getInline: db.prepare<[string], Buffer>('SELECT data FROM inline_blobs WHERE id = ?').pluck(),
      deleteInline: db.prepare('DELETE FROM inline_blobs WHERE id = ?'),
      deadInline: db.prepare('DELETE FROM inline_blobs WHERE id NOT IN (SELECT id FROM blobs)'),
      blobExists: db.prepare('SELECT 1 AS one FROM blobs WHERE id = ?'),
      deadBlobs: db.prepare('SELECT id FROM blobs WHERE refs <= 0'),
    };
  }

  /** Inside a transaction: registers a placed (or inline) blob with one reference; returns the segments naming it. */
  register(blob: WrittenBlob): Segment[] {
    this.sql.insertBlob.run(blob.id, blob.size);
    const enc = blob.enc && { enc: blob.enc };
    if (blob.data === undefined) return [{ blobId: blob.id, size: blob.size, ...enc }];
    this.sql.insertInline.run(blob.id, blob.data);
    return [{ blobId: blob.id, size: blob.size, inline: true, ...enc }];
  }

  /** Inside a transaction: one more reference to each segment's blob. */
  ref(segments: Segment[]): void {
    for (const { blobId } of segments) this.sql.addRef.run(1, blobId);
  }

  /**
   * Inside a transaction: drops one reference to each segment's blob. An inline blob goes with
   * the transaction; a file is handed to `release`, to be unlinked once the transaction has committed.
   */
  unref(segments: Segment[], release: (blobId: string) => void): void {
    for (const { blobId, inline } of segments) {
      this.sql.addRef.run(-1, blobId);
      if ((this.sql.getRefs.get(blobId)?.refs ?? 0) <= 0) {
        this.sql.deleteBlob.run(blobId);
        if (inline) {
          this.sql.deleteInline.run(blobId);
          this.cache.drop(blobId);
        } else release(blobId);
      }
    }
  }

  /** After the commit that dropped it: unlinks a blob's file (once no reader is opening it). */
  unlink(id: string): void {
    this.cache.drop(id);
    this.fds.forget(id);
    if (this.pins.has(id)) this.unlinkWhenUnpinned.add(id);
    else this.removeBlob(id);
  }

  /** Keeps the blobs' files until unpin(): a reader opening them must not see them unlinked in between. */
  pin(ids: string[]): void {
    for (const id of ids) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
  }

  unpin(ids: string[]): void {
    for (const id of ids) {
      const n = (this.pins.get(id) ?? 1) - 1;
      if (n > 0) this.pins.set(id, n);
      else {
        this.pins.delete(id);
        if (this.unlinkWhenUnpinned.delete(id)) this.removeBlob(id);
      }
    }
  }

  /** A failed delete (a remote backend out of reach) leaves an orphan for reclaimOrphans, not an unhandled rejection. */
  private removeBlob(id: string): void {
    this.files.remove(id).catch(() => undefined);
  }

  inlineBytes(blobId: string): Buffer | undefined {
    return this.sql.getInline.get(blobId);
  }

  exists(blobId: string): boolean {
    return this.sql.blobExists.get(blobId) !== undefined;
  }

  /** Start-up, inside a transaction: rows of blobs nothing references any more (a crash before their unlink). */
  dropDead(): void {
    const dead = this.sql.deadBlobs.all().map((r) => r.id);
    dead.forEach((id) => this.sql.deleteBlob.run(id));
    this.sql.deadInline.run();
  }
}
