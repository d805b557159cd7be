/**
 * Two real `offload serve --meta postgres://...` processes on one throw-away PostgreSQL, sharing
 * a blob folder: two nodes of a cluster. What one acknowledged the other serves at once; keys
 * made by `offload keys --meta` work on both; a PostgreSQL restart gives clean 503s, then both
 * recover by themselves with nothing lost.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';
import { missingPeer } from '../helpers/require-peer.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';

async function getBytes(client: S3Client, Key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: 'media', Key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** The HTTP status and S3 code of a failed call (undefined when it succeeded). */
async function failure(call: Promise<unknown>): Promise<{ status?: number; code: string } | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, code: e.name };
  }
}

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('two offload serve --meta nodes on one PostgreSQL', () => {
  let pg: TestPostgres;
  let dataDir: string;
  let nodes: TestServer[] = [];
  let a: S3Client;
  let b: S3Client;

  beforeAll(async () => {
    pg = await startPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'offload-pg-nodes-'));
    nodes = await Promise.all([0, 1].map(() => startServer({ dataDir, args: ['--meta', pg.url] })));
    [a, b] = nodes.map((n) => sdkClient(n)) as [S3Client, S3Client];
    await a.send(new CreateBucketCommand({ Bucket: 'media' }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await pg?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a bucket made through A can be configured through B at once (the admin endpoints read current bucket state)', async () => {
    await a.send(new CreateBucketCommand({ Bucket: 'fresh-admin' }));
    const rules = JSON.stringify({ rules: [{ contentType: ['text/css'], cacheControl: 'public, max-age=60' }] });
    for (const [path, body] of [['/_offload/buckets/fresh-admin/cache-rules', rules], ['/_offload/buckets/fresh-admin/limits', JSON.stringify({ rps: 100 })]] as const) {
      const res = await rawRequest(nodes[1]!, toHttp(await signRequest(nodes[1]!, { method: 'PUT', path, body, headers: { 'content-type': 'application/json' } })));
      expect(res.status, `${path}: ${res.body}`).toBe(200);
    }
    // No limit left behind: the later tests run with the limiter idle, as they were written.
    const cleared = await rawRequest(nodes[0]!, toHttp(await signRequest(nodes[0]!, { method: 'PUT', path: '/_offload/buckets/fresh-admin/limits', body: '{}', headers: { 'content-type': 'application/json' } })));
    expect(cleared.status).toBe(200);
  });

  it('an object PUT through A is read whole through B at once; its overwrite and delete too', async () => {
    for (const size of [100, 200 * 1024, 3 * 1024 * 1024]) {
      const key = `pics/${size}.bin`;
      // B looks first (and may cache the absence).
      expect(await failure(getBytes(b, key))).toEqual({ status: 404, code: 'NoSuchKey' });
      const first = randomBytes(size);
      await a.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: first }));
      expect((await getBytes(b, key)).equals(first)).toBe(true);
      const second = randomBytes(size);
      await b.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: second }));
      expect((await getBytes(a, key)).equals(second)).toBe(true);
      const listed = await b.send(new ListObjectsV2Command({ Bucket: 'media', Prefix: 'pics/' }));
      expect(listed.Contents?.map((o) => o.Key)).toContain(key);
      await a.send(new DeleteObjectCommand({ Bucket: 'media', Key: key }));
      expect(await failure(getBytes(b, key))).toEqual({ status: 404, code: 'NoSuchKey' });
    }
  });

  it('a public object answered (and kept) by B is answered anew once A overwrites or deletes it', async () => {
    const get = () => fetch(`${nodes[1]!.endpoint}/media/public.txt`);
    for (const body of ['first version', 'second version']) {
      await a.send(new PutObjectCommand({ Bucket: 'media', Key: 'public.txt', Body: body, ACL: 'public-read' }));
      // Twice: the second may come from B's kept answer for repeated anonymous GETs.
      for (let i = 0; i < 2; i++) {
        const res = await get();
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(body);
      }
    }
    await a.send(new DeleteObjectCommand({ Bucket: 'media', Key: 'public.txt' }));
    // Gone: an anonymous reader of a private bucket gets AccessDenied for a missing key, as on S3.
    const gone = await get();
    expect(gone.status).toBe(403);
    expect(await gone.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('of If-None-Match: * PUTs racing through both nodes, exactly one succeeds, the rest get 412', async () => {
    const puts = Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).send(new PutObjectCommand({ Bucket: 'media', Key: 'once.txt', Body: `writer ${i}`, IfNoneMatch: '*' })));
    const outcomes = await Promise.all(puts.map((p) => failure(p)));
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
    for (const o of outcomes) if (o) expect(o).toMatchObject({ status: 412, code: 'PreconditionFailed' });
  });

  it('a key made by `offload keys create --meta` signs on both nodes at once, and is refused on both once deleted', async () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'keys', ...args, '--meta', pg.url], { encoding: 'utf8', timeout: 30_000 });
    const created = run('create', 'deployer', '--access-key', 'OFLTESTDEPLOYER', '--secret-key', 'deployer-secret-123');
    expect(created.status, created.stderr).toBe(0);
    expect(run('list').stdout).toContain('OFLTESTDEPLOYER  deployer');
    const credentials = { accessKeyId: 'OFLTESTDEPLOYER', secretAccessKey: 'deployer-secret-123' };
    for (const node of nodes) await sdkClient(node, { credentials }).send(new CreateBucketCommand({ Bucket: `deployer-${node.port}` }));
    expect(run('delete', 'OFLTESTDEPLOYER').status).toBe(0);
    for (const node of nodes) expect(await failure(sdkClient(node, { credentials }).send(new ListObjectsV2Command({ Bucket: `deployer-${node.port}` })))).toEqual({ status: 403, code: 'InvalidAccessKeyId' });
  });

  it('a PostgreSQL restart under load: every answer is a success or a 503, and every acknowledged PUT reads back whole', async () => {
    const acknowledged = new Map<string, Buffer>();
    const statuses = new Map<string, number>();
    let stop = false;
    const writer = async (client: S3Client, name: string) => {
      for (let i = 0; !stop && i < 400; i++) {
        const key = `load/${name}/${i}`;
        const body = randomBytes(i % 3 === 0 ? 100 * 1024 : 500);
        const put = await failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: body })));
        const get = put ? undefined : await failure(getBytes(client === a ? b : a, key));
        for (const outcome of [put, get]) {
          const label = outcome ? `${outcome.status} ${outcome.code}` : 'ok';
          statuses.set(label, (statuses.get(label) ?? 0) + 1);
        }
        if (!put) acknowledged.set(key, body);
      }
    };
    const load = Promise.all([writer(a, 'a1'), writer(a, 'a2'), writer(b, 'b1'), writer(b, 'b2')]);
    await new Promise((r) => setTimeout(r, 500));
    await pg.restart(1000);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await load;
    for (const label of statuses.keys()) expect(['ok', '503 ServiceUnavailable']).toContain(label);
    expect(statuses.get('ok')).toBeGreaterThan(0);
    for (const [key, body] of acknowledged) expect((await getBytes(b, key)).equals(body), key).toBe(true);
    for (const node of nodes) expect(node.process.exitCode).toBeNull();
  });

  it('nodes of several worker processes each (--workers 2) share the database the same way', async () => {
    const url = await pg.createDatabase('workers');
    const folder = mkdtempSync(join(tmpdir(), 'offload-pg-workers-'));
    const pair = await Promise.all([0, 1].map(() => startServer({ dataDir: folder, args: ['--meta', url, '--workers', '2'] })));
    try {
      const [x, y] = pair.map((n) => sdkClient(n)) as [S3Client, S3Client];
      await x.send(new CreateBucketCommand({ Bucket: 'media' }));
      for (let i = 0; i < 10; i++) {
        const body = randomBytes(100 + i);
        await x.send(new PutObjectCommand({ Bucket: 'media', Key: `w${i}`, Body: body }));
        expect((await getBytes(y, `w${i}`)).equals(body)).toBe(true);
      }
    } finally {
      await Promise.all(pair.map((n) => n.stop()));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('while PostgreSQL restarts requests get 503 ServiceUnavailable; then both nodes recover with nothing lost', async () => {
    const kept = randomBytes(50 * 1024);
    await a.send(new PutObjectCommand({ Bucket: 'media', Key: 'kept.bin', Body: kept }));
    expect((await getBytes(b, 'kept.bin')).equals(kept)).toBe(true);
    pg.halt();
    try {
      for (const client of [a, b]) {
        expect(await failure(getBytes(client, 'kept.bin'))).toEqual({ status: 503, code: 'ServiceUnavailable' });
        expect(await failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: 'during.bin', Body: 'x' })))).toEqual({ status: 503, code: 'ServiceUnavailable' });
      }
    } finally {
      pg.resume();
    }
    // The pools reconnect by themselves: the first request after the restart may still meet a
    // connection the restart closed; within a few tries every node answers again.
    for (const client of [a, b]) {
      let bytes: Buffer | undefined;
      for (let i = 0; i < 50 && !bytes; i++) {
        bytes = await getBytes(client, 'kept.bin').catch(() => undefined);
        if (!bytes) await new Promise((r) => setTimeout(r, 200));
      }
      expect(bytes?.equals(kept)).toBe(true);
    }
    const after = randomBytes(1000);
    await b.send(new PutObjectCommand({ Bucket: 'media', Key: 'after.bin', Body: after }));
    expect((await getBytes(a, 'after.bin')).equals(after)).toBe(true);
    for (const node of nodes) expect(node.process.exitCode).toBeNull();
  });
});
