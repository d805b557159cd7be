/**
 * `offload migrate` and encryption at rest: encrypted objects move as they are (ciphertext and
 * wrapped data keys), so the target must be served with the master key that wraps the source's
 * SSE-S3 data keys. Checked before anything is copied: the key file must hold that key (one of its
 * data keys is unwrapped to prove it), and a PostgreSQL target records it, refusing a database
 * whose nodes already use another one (postgres/master-key-record.ts). SSE-C objects need no key.
 */
import { loadMasterKey, type MasterKey } from '../../storage/encryption/keys.js';
import { Sealer } from '../../storage/encryption/sealer.js';
import type { SegmentEncryption, Store } from '../../storage/types.js';

/** The master key ids the source's SSE-S3 objects use, with one data key of each. */
async function masterKeysUsed(store: Store): Promise<Map<string, { enc: SegmentEncryption; objects: number }>> {
  await store.refresh();
  const used = new Map<string, { enc: SegmentEncryption; objects: number }>();
  for (const bucket of store.listBuckets()) {
    let after: string | undefined;
    for (;;) {
      const page = await store.listObjects({ bucket: bucket.name, after, maxKeys: 1000 });
      for (const meta of page.objects) {
        const enc = meta.segments.find((s) => s.enc && s.enc.kek !== 'customer')?.enc;
        if (!enc || enc.kek === 'customer') continue;
        const entry = used.get(enc.kek.master) ?? { enc, objects: 0 };
        entry.objects++;
        used.set(enc.kek.master, entry);
      }
      if (!page.isTruncated || page.lastReturned === undefined) break;
      after = page.lastReturned;
    }
  }
  return used;
}

export function loadMigrateKey(file: string | undefined): MasterKey | undefined {
  return file === undefined ? undefined : loadMasterKey(file);
}

/** Throws, before anything is copied, when the target would not hold the source's master key. */
export async function checkSourceMasterKey(from: Store, key: MasterKey | undefined): Promise<void> {
  const used = await masterKeysUsed(from);
  if (used.size === 0) return;
  const summary = [...used].map(([id, u]) => `${u.objects} under master key ${id}`).join(', ');
  if (!key) throw new Error(`the source holds SSE-S3 objects (${summary}): give --master-key-file with that key, which the target must be served with; nothing was copied`);
  const others = [...used.keys()].filter((id) => id !== key.id);
  if (others.length > 0) throw new Error(`the source holds SSE-S3 objects (${summary}), not all under --master-key-file's key ${key.id} (finish \`offload keys rotate-master\` first); nothing was copied`);
  // The id is a fingerprint; unwrapping a data key proves the file holds the key itself.
  new Sealer(key).dataKeyOf(used.get(key.id)!.enc, undefined);
}
