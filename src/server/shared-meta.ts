/**
 * `offload serve --meta postgres://...`: buckets, objects, uploads and keys in PostgreSQL, so that
 * several server processes (nodes) on one database serve the same data. Blob bytes stay in the
 * data folder's blobs/ (a folder every node shares, or another BlobStorage).
 */
import { openPgStore } from '../storage/postgres/store.js';
import { attachPgKeyStore } from '../storage/postgres/keys.js';
import type { KeyStore } from '../storage/keys.js';
import type { BlobStorage } from '../storage/blobs.js';
import type { Store } from '../storage/types.js';

export async function openSharedMetadata(url: string, dataDir: string, opts: { hotCacheBytes?: number; blobs?: BlobStorage }): Promise<{ store: Store; keys: KeyStore }> {
  const store = await openPgStore(url, { blobs: opts.blobs, blobDir: dataDir, cache: { maxTotalBytes: opts.hotCacheBytes } });
  try {
    return { store, keys: await attachPgKeyStore(store.db, store.state) };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** The URL without its password, for the start-up banner and logs. */
export function redactMetaUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
