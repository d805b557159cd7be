/** One side of `offload migrate`: a store, its access keys, and how to close it. */
import type { Credential } from '../../storage/keys.js';
import type { Store } from '../../storage/types.js';

export interface Side {
  store: Store;
  keys: { list(): Promise<Credential[]>; add(key: Credential): Promise<void> };
  /** The data folder, when this side is one (root credentials are copied between data folders). */
  dataDir?: string;
  close(): Promise<void>;
}
