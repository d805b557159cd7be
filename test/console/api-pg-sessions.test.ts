/**
 * Console sessions with `--meta postgres://...`: two nodes on one database share them. A sign-in
 * through node A works on node B (cookie and CSRF token alike); a sign-out through B ends the
 * session on A too; the usage page on either node counts the requests both answered.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { ConsoleClient, errorCode, signedIn, startConsoleServer, type ConsoleServer } from './api-client.js';

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('console sessions shared by two --meta nodes', () => {
  let pg: TestPostgres;
  let blobDir: string;
  let a: ConsoleServer;
  let b: ConsoleServer;

  beforeAll(async () => {
    pg = await startPostgres();
    blobDir = mkdtempSync(join(tmpdir(), 'offload-pg-sessions-blobs-'));
    // Each node its own data folder (nothing shared through local files), the blobs in one shared
    // folder; one after the other, so the second node's console takes a port of its own.
    a = await startConsoleServer({ args: ['--meta', pg.url, '--blobs', blobDir] });
    b = await startConsoleServer({ args: ['--meta', pg.url, '--blobs', blobDir] });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await pg?.stop();
    if (blobDir) rmSync(blobDir, { recursive: true, force: true });
  });

  it('a sign-in through A is valid on B; a sign-out through B ends it on A', async () => {
    const onA = await signedIn(a.consoleOrigin, a.accessKeyId, a.secretAccessKey);
    const onB = new ConsoleClient(b.consoleOrigin);
    onB.cookie = onA.cookie;
    onB.csrf = onA.csrf;

    const session = await onB.json('GET', '/session');
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ accessKeyId: a.accessKeyId, isRoot: true });
    // A state-changing call on B with the token A handed out.
    const made = await onB.json('POST', '/buckets', { json: { name: 'made-on-b' } });
    expect(made.status).toBe(201);
    expect((await onA.json('GET', '/buckets')).status).toBe(200);

    const out = await onB.json('DELETE', '/session');
    expect(out.status).toBe(200);
    const after = await onA.json('GET', '/buckets');
    expect(after.status).toBe(401);
    expect(errorCode(after.body)).toBe('NotSignedIn');
    // Still refused on B, with a copy of the cookie kept from before the sign-out.
    onB.cookie = onA.cookie;
    expect((await onB.json('GET', '/buckets')).status).toBe(401);
    // Both nodes alive.
    expect((await fetch(`${a.endpoint}/_offload/health`)).status).toBe(200);
    expect((await fetch(`${b.endpoint}/_offload/health`)).status).toBe(200);
  });

  it('keeps no session in the data folder: no console.db, and a forged cookie is refused on both nodes', async () => {
    for (const node of [a, b]) {
      expect(existsSync(join(node.dataDir, 'console.db'))).toBe(false);
      const client = new ConsoleClient(node.consoleOrigin);
      client.cookie = `offload_session=${'A'.repeat(43)}`;
      const res = await client.json('GET', '/session');
      expect(res.status).toBe(401);
    }
  });

  it('the usage page of either node counts the requests both answered', async () => {
    await sdkClient(a).send(new PutObjectCommand({ Bucket: 'made-on-b', Key: 'hello.txt', Body: 'hello', ACL: 'public-read' }));
    for (let i = 0; i < 6; i++) expect((await fetch(`${(i % 2 === 0 ? a : b).endpoint}/made-on-b/hello.txt`)).status).toBe(200);
    // Each node flushes its counts within ~2 s.
    await new Promise((r) => setTimeout(r, 2600));
    for (const node of [a, b]) {
      const client = await signedIn(node.consoleOrigin, node.accessKeyId, node.secretAccessKey);
      const stats = await client.json<{ totals: { gets: number }; objects: number; storageBytes: number; topByRequests: { key: string; requests: number }[] }>('GET', '/stats?bucket=made-on-b');
      expect(stats.status).toBe(200);
      expect(stats.body.topByRequests.find((f) => f.key === 'hello.txt')?.requests).toBeGreaterThanOrEqual(6);
      expect(stats.body.objects).toBe(1);
      expect(stats.body.storageBytes).toBe(5);
    }
  });
});
