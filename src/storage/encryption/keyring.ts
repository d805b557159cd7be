/**
 * The master keys one node holds: the one it was started with (--master-key-file) and, during a
 * rotation, the previous one (--previous-master-key-file), so that a node serving while
 * `offload keys rotate-master` re-wraps the data keys reads every object, whichever key wraps it
 * at that moment. A new seam beside sealer.ts (which knows one master key): each key gets its own
 * Sealer, and the Sealer of the key a segment names does the unwrapping (and its error messages).
 */
import type { MasterKey } from './keys.js';
import { Sealer } from './sealer.js';
import type { SegmentEncryption } from './types.js';

export class KeyRing {
  private readonly sealers = new Map<string, Sealer>();
  /** The Sealer of the node's own key (or none: then only SSE-C, whose key comes with each request). */
  readonly primary: Sealer;

  constructor(readonly master?: MasterKey, readonly previous?: MasterKey) {
    this.primary = new Sealer(master);
    if (master) this.sealers.set(master.id, this.primary);
    if (previous && !this.sealers.has(previous.id)) this.sealers.set(previous.id, new Sealer(previous));
  }

  /** The ids of the master keys held, the node's own first. */
  get ids(): string[] {
    return [...this.sealers.keys()];
  }

  holds(id: string): boolean {
    return this.sealers.has(id);
  }

  /** The Sealer that wraps new data keys with master key `id` (the cluster's current one), else the node's own. */
  sealerFor(id: string | undefined): Sealer {
    return (id !== undefined ? this.sealers.get(id) : undefined) ?? this.primary;
  }

  /** The segment's data key; throws before any byte is read when no key at hand unwraps it. */
  dataKeyOf(enc: SegmentEncryption, customerKey: Buffer | undefined): Buffer {
    const sealer = enc.kek === 'customer' ? this.primary : this.sealerFor(enc.kek.master);
    return sealer.dataKeyOf(enc, customerKey);
  }
}
