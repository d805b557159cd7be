/**
 * The undo of a wrong `offload sync --delete`: syncing an empty folder into a versioned bucket
 * deletes every key (the summary says how to undo it), and `offload restore` of the bucket gives
 * the site back byte for byte (a real site tree: Django's admin static files).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DJANGO_TREE, missingOf } from '../e2e/_trees.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { peerEnv } from '../helpers/clients.js';
import { mustRun, readTree, removeDir, run, tempDir } from '../helpers/peers.js';

const missing = missingOf([DJANGO_TREE]);

describe.skipIf(missingPeer(missing.join(', '), missing.length === 0))('sync --delete into a versioned bucket, then restore', () => {
  let server: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const offload = (...args: string[]) => mustRun(process.execPath, [CLI, ...args], { env, cwd: work, timeoutMs: 120_000 });

  beforeAll(async () => {
    server = await startServer();
    work = tempDir('versioning-sync');
    env = { ...peerEnv(server, work), AWS_ENDPOINT_URL: server.endpoint };
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(work);
  });

  it('gives back every file after an empty folder was synced with --delete', async () => {
    const site = readTree(DJANGO_TREE.source);
    expect((await offload('mb', 's3://site', '--versioning')).stdout).toContain('versioning enabled');
    const uploaded = await offload('sync', DJANGO_TREE.source, 's3://site/admin');
    // sync leaves out what it always leaves out (hidden files): the site is what it uploaded.
    const count = Number(/upload (\d+)/.exec(uploaded.stderr)?.[1]);
    expect(count).toBeGreaterThan(50);
    mkdirSync(join(work, 'empty'));
    const wiped = await offload('sync', join(work, 'empty'), 's3://site/admin', '--delete');
    expect(wiped.stderr).toContain(`delete ${count}`);
    expect(wiped.stderr).toContain('the deletions are recoverable');
    expect(wiped.stderr).toContain('offload restore s3://site/admin/');
    const empty = await run(process.execPath, [CLI, 'ls', 's3://site/admin/', '--recursive'], { env, cwd: work });
    expect(empty.stdout.trim()).toBe('');

    const restored = await offload('restore', 's3://site/admin/');
    expect(restored.stderr).toContain(`restored ${count}`);
    await offload('sync', 's3://site/admin', join(work, 'back'));
    const back = readTree(join(work, 'back'));
    expect(Object.keys(back)).toHaveLength(count);
    for (const [path, bytes] of Object.entries(back)) expect(site[path]?.equals(bytes), path).toBe(true);

    // Every key has its original version current again, and a marker-free history.
    const listing = await offload('versions', 's3://site/admin/', '--json');
    const lines = listing.stdout.trim().split('\n').map((l) => JSON.parse(l) as { deleteMarker: boolean; latest: boolean });
    expect(lines.filter((l) => l.deleteMarker)).toEqual([]);
    expect(lines.filter((l) => l.latest)).toHaveLength(count);
  });
});
