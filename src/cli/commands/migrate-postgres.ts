/** The PostgreSQL side of `offload migrate` (loaded only for a postgres:// source or target). */
import type { BlobStorage } from '../../storage/blobs.js';

export async function openPostgresSide(_url: string, _blobs: BlobStorage | undefined): Promise<never> {
  throw new Error('offload migrate: PostgreSQL metadata is not available in this build');
}
