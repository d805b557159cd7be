/** The blob storage contract run against BlobFiles: blob files in a temp data folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobFiles } from '../../../src/storage/blobs.js';
import { runBlobConformance } from './blob-contract.js';

runBlobConformance('blob files', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'offload-blob-contract-'));
  return {
    blobs: new BlobFiles(dataDir),
    reopen: async () => new BlobFiles(dataDir),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});
