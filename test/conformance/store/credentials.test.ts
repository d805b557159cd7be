/** Access keys and secrets are made by one generator in storage, for the root account and `offload keys` alike. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openKeyStore } from '../../../src/storage/keys.js';
import { loadRootCredentials } from '../../../src/server/root-credentials.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'offload-creds-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const KEY_ID = /^OFL[A-Z0-9]{17}$/;
const SECRET = /^[A-Za-z0-9]{40}$/;

describe('generated credentials', () => {
  it('`offload keys create` makes OFL... ids and 40-character alphanumeric secrets', () => {
    const keys = openKeyStore(tempDir());
    try {
      for (let i = 0; i < 50; i++) {
        const key = keys.createKey({ name: `k${i}` });
        expect(key.accessKeyId).toMatch(KEY_ID);
        expect(key.secretAccessKey).toMatch(SECRET);
      }
    } finally {
      keys.close();
    }
  });

  it('the root account gets keys of the same shape', () => {
    for (let i = 0; i < 20; i++) {
      const root = loadRootCredentials(tempDir(), {});
      expect(root.generated).toBe(true);
      expect(root.accessKeyId).toMatch(KEY_ID);
      expect(root.secretAccessKey).toMatch(SECRET);
    }
  });
});
