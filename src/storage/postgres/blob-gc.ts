/**
 * Blob bytes and their lifecycle with PostgreSQL metadata. Blobs are immutable and shared by
 * reference count (blobs table). Written to the BlobStorage first; a file blob gets a pending row
 * (refs 0, since now) just before it is placed, and the commit that names it sets refs to 1 only
 * if that row is still there. A blob whose count drops to zero keeps its row (since = then).
 *
 * The collector, on any node, reclaims rows at refs 0 older than the grace period and their
 * bytes: orphans of writes that never committed (a crashed node) and blobs nothing references
 * any more. It locks each row while it removes the bytes, so a commit racing for a pending blob
 * either wins (the row has refs 1 and is kept) or finds the row gone and fails cleanly: a
 * committed object never names a removed blob. The grace period is what lets a GET on another
 * node finish reading the blob of a version that was overwritten or deleted meanwhile.
 */
import type { Readable } from 'node:stream';
import type { BlobStorage, WrittenBlob } from '../blobs.js';
import type { BlobCache } from '../blob-cache.js';
import { S3Error } from '../../errors/s3-error.js';
import type { PgDb } from './db.js';
import type { EncryptionRequest } from '../types.js';
import type { PgSealing } from './sealed.js';

const COLLECT_BATCH = 200;

export class PgBlobs {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private collecting: Promise<number> | undefined;
  private readonly placed = new WeakSet<WrittenBlob>();

  constructor(private readonly db: PgDb, readonly files: BlobStorage, private readonly cache: BlobCache, readonly graceMs: number, readonly sealing: PgSealing) {}

  /** Streams the body into the blob storage (small bodies stay in memory, to be stored inline), encrypted when asked. */
  write(body: Readable, inline: boolean, encryption?: EncryptionRequest): Promise<WrittenBlob> {
    if (encryption) return this.sealing.write(this.files, body, inline, encryption);
    return this.files.write(body, { inline });
  }

  /** Records the pending row, then places the bytes: from here a crash leaves a row the collector finds. */
  async place(blob: WrittenBlob): Promise<void> {
    if (blob.data !== undefined || blob.size === 0) return;
    await this.db.query('INSERT INTO blobs (id, size, refs, since) VALUES ($1, $2, 0, now())', [blob.id, blob.size]);
    await this.files.place(blob);
    this.placed.add(blob);
  }

  /**
   * After a write failed: drops its bytes when the commit certainly did not happen. When the
   * connection broke (the commit may have landed), the pending row is left to the collector,
   * which keeps the blob if the commit named it.
   */
  async abandon(blob: WrittenBlob, err: unknown): Promise<void> {
    if (blob.data !== undefined || blob.size === 0) return;
    if (this.placed.has(blob) && err instanceof S3Error && err.code === 'ServiceUnavailable') return;
    await this.files.discard(blob);
    await this.db.query('DELETE FROM blobs WHERE id = $1 AND refs = 0', [blob.id]).catch(() => undefined);
  }

  /** A small blob's bytes, kept in its row (dead rows keep them through the grace period too). */
  async inlineBytes(id: string): Promise<Buffer | undefined> {
    const { rows } = await this.db.query<{ data: Buffer | null }>('SELECT data FROM blobs WHERE id = $1', [id]);
    return rows[0]?.data ?? undefined;
  }

  /** Starts collecting every `every` ms (and soon after start); returns nothing, stop() ends it. */
  start(every = Math.min(Math.max(this.graceMs, 1000), 60_000)): void {
    this.timer = setInterval(() => void this.collect().catch(() => undefined), every);
    this.timer.unref();
  }

  /**
   * After a commit that may have released blobs: with a short grace period (tests, small
   * deployments), collect once it has passed instead of waiting for the next round.
   */
  released(): void {
    if (this.graceMs > 60_000 || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.collect().catch(() => undefined);
    }, this.graceMs + 20);
    this.soon.unref();
  }

  /** Reclaims unreferenced blobs older than the grace period; returns how many. */
  collect(): Promise<number> {
    this.collecting ??= this.collectAll().finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  private async collectAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.collectBatch();
      total += n;
      if (n < COLLECT_BATCH) return total;
    }
  }

  private async collectBatch(): Promise<number> {
    return this.db.tx(async (sql) => {
      const { rows } = await sql.query<{ id: string; file: boolean }>(
        `SELECT id, data IS NULL AS file FROM blobs WHERE refs <= 0 AND since <= now() - make_interval(secs => $1)
         ORDER BY since LIMIT ${COLLECT_BATCH} FOR UPDATE SKIP LOCKED`,
        [this.graceMs / 1000],
      );
      if (rows.length === 0) return 0;
      // Bytes first, then the rows, in the locked transaction: a crash in between leaves rows
      // that the next collection removes again (removing a missing blob is no error).
      for (const row of rows) {
        this.cache.drop(row.id);
        if (row.file) await this.files.remove(row.id);
      }
      await sql.query('DELETE FROM blobs WHERE id = ANY($1)', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.collecting?.catch(() => undefined);
  }
}
