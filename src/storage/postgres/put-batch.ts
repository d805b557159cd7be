/**
 * Group commit for PutObject: the puts that are ready to commit in the same turn of the event
 * loop go to PostgreSQL as one statement (offload_put_many), one transaction, one WAL flush. A
 * lone put is a batch of one, no slower than before; many concurrent puts cost a fraction of the
 * round trips and commits. Should a batch fail as a whole (a bucket deleted meanwhile, a
 * deadlock with another node's batch), each of its puts is sent again on its own, so that one
 * put's failure never fails another's. Puts into a bucket with a quota go on their own from the
 * start (`alone`): one of them refused by the quota would fail the batch, and they would queue on
 * the bucket's quota row anyway.
 */
import { isConnectionError, type PgDb } from './db.js';

export interface PutArgs {
  bucket: string;
  key: string;
  /** -1: replace whatever is current; 0: only if absent; n: only if the current revision is n. */
  expect: number;
  meta: string;
  blob: string | null;
  size: number;
  data: Buffer | null;
  /** Not batched with others (the bucket has a quota). */
  alone?: boolean;
}

export interface PutOutcome {
  out_status: string;
  out_meta: Record<string, unknown> | null;
  out_revision: string | null;
}

type Waiting = { args: PutArgs; resolve: (r: PutOutcome) => void; reject: (err: unknown) => void };

// More would keep rows locked longer and put too many subtransaction-free writes in one commit.
const MAX_BATCH = 64;

export class PutBatcher {
  private queue: Waiting[] = [];

  constructor(private readonly db: PgDb) {}

  submit(args: PutArgs): Promise<PutOutcome> {
    return new Promise((resolve, reject) => {
      if (args.alone) return void this.sendOne({ args, resolve, reject });
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ args, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) void this.send(all.slice(i, i + MAX_BATCH));
  }

  private async send(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return this.sendOne(batch[0]!);
    // One order for everyone: two batches locking the same keys take them in the same order.
    batch.sort((x, y) => (x.args.bucket === y.args.bucket ? compare(x.args.key, y.args.key) : compare(x.args.bucket, y.args.bucket)));
    const column = <K extends keyof PutArgs>(k: K) => batch.map((w) => w.args[k]);
    try {
      const { rows } = await this.db.query<PutOutcome & { out_index: number }>(
        'SELECT * FROM offload_put_many($1::text[], $2::text[], $3::bigint[], $4::jsonb[], $5::text[], $6::bigint[], $7::bytea[])',
        [column('bucket'), column('key'), column('expect'), column('meta'), column('blob'), column('size'), column('data')],
      );
      for (const row of rows) batch[row.out_index - 1]!.resolve(row);
    } catch (err) {
      if (isConnectionError((err as { cause?: unknown }).cause ?? err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      await Promise.all(batch.map((w) => this.sendOne(w)));
    }
  }

  private async sendOne(w: Waiting): Promise<void> {
    const a = w.args;
    try {
      const { rows } = await this.db.query<PutOutcome>('SELECT * FROM offload_put($1, $2, $3, $4::jsonb, $5, $6, $7)', [a.bucket, a.key, a.expect, a.meta, a.blob, a.size, a.data]);
      w.resolve(rows[0]!);
    } catch (err) {
      w.reject(err);
    }
  }
}

/** The database's order for COLLATE "C": by UTF-8 bytes. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
