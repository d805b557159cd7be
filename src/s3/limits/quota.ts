/**
 * Bucket quotas (max bytes, max objects), checked inside the commit: a write's precondition runs
 * in the engine's commit transaction, one write after another, so the check and the update of the
 * bucket's usage are one step, and writers racing for the last bytes cannot both pass.
 *
 * The usage is counted from a listing when no quota-checked write is in flight (so deletes and
 * other processes' writes are seen), and kept up to date by each write's precondition while some
 * are (a write that fails after passing leaves the count high until the next listing: the
 * conservative side). Each listing costs one page per 1000 objects.
 */
import { S3Error } from '../../errors/s3-error.js';
import type { ObjectMeta, PutObjectInput, Store } from '../../storage/types.js';
import { bucketLimits, type BucketLimits } from './bucket-limits.js';

type Precondition = PutObjectInput['precondition'];
type Usage = { bytes: number; objects: number };

export interface WriteQuota {
  /** The write's precondition with the quota check added; `size` is the new object's (a getter for bodies of unknown size). */
  wrap(size: number | (() => number), inner: Precondition): Precondition;
  /** Once the write has committed or failed. */
  release(): void;
}

const NO_QUOTA: WriteQuota = { wrap: (_size, inner) => inner, release: () => undefined };

class BucketLedger {
  usage: Usage = { bytes: 0, objects: 0 };
  inFlight = 0;
  private counting: Promise<void> | undefined;

  constructor(private readonly store: Store, private readonly bucket: string) {}

  async enter(): Promise<void> {
    if (this.inFlight === 0) await (this.counting ??= this.count().finally(() => (this.counting = undefined)));
    this.inFlight++;
  }

  private async count(): Promise<void> {
    const usage: Usage = { bytes: 0, objects: 0 };
    let after: string | undefined;
    for (;;) {
      const page = await this.store.listObjects({ bucket: this.bucket, after, maxKeys: 1000 });
      for (const o of page.objects) {
        usage.bytes += o.size;
        usage.objects++;
      }
      if (!page.isTruncated || page.lastReturned === undefined) break;
      after = page.lastReturned;
    }
    this.usage = usage;
  }

  check(limits: BucketLimits, size: number, current: ObjectMeta | undefined): void {
    const bytes = size - (current?.size ?? 0);
    const objects = current ? 0 : 1;
    if (limits.maxBytes !== undefined && bytes > 0 && this.usage.bytes + bytes > limits.maxBytes) {
      throw new S3Error('XOffloadQuotaExceeded', `The write would take the bucket past its quota of ${limits.maxBytes} bytes (${this.usage.bytes} stored).`, { BucketName: this.bucket });
    }
    if (limits.maxObjects !== undefined && objects > 0 && this.usage.objects + objects > limits.maxObjects) {
      throw new S3Error('XOffloadQuotaExceeded', `The write would take the bucket past its quota of ${limits.maxObjects} objects.`, { BucketName: this.bucket });
    }
    this.usage.bytes += bytes;
    this.usage.objects += objects;
  }
}

const ledgers = new WeakMap<Store, Map<string, BucketLedger>>();

/** The quota of a write into `bucket`: a no-op when the bucket has none. */
export async function writeQuota(store: Store, bucket: string): Promise<WriteQuota> {
  const limits = bucketLimits(store, bucket);
  if (limits?.maxBytes === undefined && limits?.maxObjects === undefined) return NO_QUOTA;
  let byBucket = ledgers.get(store);
  if (!byBucket) ledgers.set(store, (byBucket = new Map()));
  let ledger = byBucket.get(bucket);
  if (!ledger) byBucket.set(bucket, (ledger = new BucketLedger(store, bucket)));
  await ledger.enter();
  const entered = ledger;
  let released = false;
  return {
    wrap: (size, inner) => (current) => {
      inner?.(current);
      entered.check(limits, typeof size === 'number' ? size : size(), current);
    },
    release: () => {
      if (released) return;
      released = true;
      entered.inFlight--;
    },
  };
}
