/**
 * Three stateless nodes (`offload serve --meta postgres://... --blobs /shared/folder`) behind no
 * balancer: every test sends each request to a chosen node. What one node acknowledged, every
 * other serves at once and whole; conditional writes are atomic across nodes; a node killed
 * with SIGKILL loses no acknowledged write; a PostgreSQL restart gives 503s, then recovery.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, PutObjectTaggingCommand, GetObjectTaggingCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBin } from '../helpers/postgres.js';
import { missingPeer } from '../helpers/require-peer.js';
import { failure, startTestCluster, versionBody, versionOf, type TestCluster } from './cluster-fixture.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function getBytes(client: S3Client, key: string, bucket = 'media'): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function keysOf(client: S3Client, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: 'media', Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('a 3-node cluster on PostgreSQL and a shared blob folder', () => {
  let cluster: TestCluster;
  let c: S3Client[];
  beforeAll(async () => {
    cluster = await startTestCluster();
    c = cluster.clients;
    await c[0]!.send(new CreateBucketCommand({ Bucket: 'media' }));
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('read-after-write and read-after-delete through other nodes, listings included, with every cache warmed first', async () => {
    for (const [i, size] of [100, 200 * 1024, 3 * 1024 * 1024].entries()) {
      const key = `raw/${size}`;
      // Every node looks first and may cache the absence (and, below, the old body).
      for (const client of c) expect(await failure(getBytes(client, key))).toEqual({ status: 404, code: 'NoSuchKey' });
      const v1 = versionBody(`v1-${size}`, size);
      await c[i]!.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: v1 }));
      for (const client of c) expect(md5(await getBytes(client, key))).toBe(md5(v1));
      for (const client of c) expect(await keysOf(client, 'raw/')).toContain(key);
      const v2 = versionBody(`v2-${size}`, size);
      await c[(i + 1) % 3]!.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: v2 }));
      for (const client of c) expect(versionOf(await getBytes(client, key))).toBe(`v2-${size}`);
      await c[(i + 2) % 3]!.send(new DeleteObjectCommand({ Bucket: 'media', Key: key }));
      for (const client of c) {
        expect(await failure(getBytes(client, key))).toEqual({ status: 404, code: 'NoSuchKey' });
        expect(await keysOf(client, 'raw/')).not.toContain(key);
      }
    }
  }, 60_000);

  it('the overwrite hammer: after each acknowledged write every node serves exactly it; concurrent readers never see a mixed body', async () => {
    const key = 'hammer.bin';
    let stop = false;
    const seen = new Set<string>();
    const readers = c.map(async (client) => {
      while (!stop) {
        const body = await getBytes(client, key).catch((err: { name?: string }) => (err.name === 'NoSuchKey' ? undefined : Promise.reject(err)));
        if (body) seen.add(versionOf(body));
      }
    });
    for (let v = 0; v < 30; v++) {
      const version = `h${v}`;
      // Sizes around the inline limit and the hot-cache limit, so every read path takes part.
      const size = [1000, 70 * 1024, 1536 * 1024][v % 3]!;
      await c[v % 3]!.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: versionBody(version, size) }));
      const now = await Promise.all(c.map((client) => getBytes(client, key)));
      for (const body of now) expect(versionOf(body)).toBe(version);
    }
    stop = true;
    await Promise.all(readers);
    expect(seen.size).toBeGreaterThan(5);
  }, 120_000);

  it('concurrent writers on every node: each read is one whole version, and the last acknowledged write is what all serve', async () => {
    const key = 'writers.bin';
    const writers = c.map(async (client, w) => {
      for (let k = 0; k < 12; k++) await client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: versionBody(`w${w}-${k}`, 100_000 + w * 1000) }));
    });
    const readers = c.map(async (client) => {
      for (let k = 0; k < 20; k++) {
        const body = await getBytes(client, key).catch(() => undefined);
        if (body) versionOf(body);
      }
    });
    await Promise.all([...writers, ...readers]);
    const final = await Promise.all(c.map((client) => getBytes(client, key)));
    expect(new Set(final.map(versionOf)).size).toBe(1);
  }, 120_000);

  it('N concurrent conditional PUTs through N nodes: exactly one wins, the rest get 412; If-Match races too', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `cond/${round}`;
      const attempts = [...c, ...c].map((client, i) =>
        failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: versionBody(`c${i}`, 2000), IfNoneMatch: '*' }))),
      );
      const outcomes = await Promise.all(attempts);
      const winners = outcomes.flatMap((o, i) => (o === undefined ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const o of outcomes) if (o) expect(['PreconditionFailed', 'ConditionalRequestConflict']).toContain(o.code);
      for (const client of c) expect(versionOf(await getBytes(client, key))).toBe(`c${winners[0]}`);
      const etag = (await c[0]!.send(new HeadObjectCommand({ Bucket: 'media', Key: key }))).ETag!;
      const matches = await Promise.all([...c, ...c].map((client, i) => failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: versionBody(`m${i}`, 2000), IfMatch: etag })))));
      expect(matches.filter((o) => o === undefined)).toHaveLength(1);
    }
  }, 60_000);

  it('S3 operations round-robin over the nodes, one request per node in turn: multipart, copy, tagging, listing', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(777)];
    const { UploadId } = await cluster.next().send(new CreateMultipartUploadCommand({ Bucket: 'media', Key: 'rr/multi', ContentType: 'video/mp4' }));
    const etags = [];
    for (const [i, part] of parts.entries()) etags.push((await cluster.next().send(new UploadPartCommand({ Bucket: 'media', Key: 'rr/multi', UploadId, PartNumber: i + 1, Body: part }))).ETag);
    await cluster.next().send(new CompleteMultipartUploadCommand({ Bucket: 'media', Key: 'rr/multi', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const whole = Buffer.concat(parts);
    for (const client of c) expect(md5(await getBytes(client, 'rr/multi'))).toBe(md5(whole));
    await cluster.next().send(new CopyObjectCommand({ Bucket: 'media', Key: 'rr/copy', CopySource: 'media/rr/multi' }));
    await cluster.next().send(new PutObjectTaggingCommand({ Bucket: 'media', Key: 'rr/copy', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
    expect((await cluster.next().send(new GetObjectTaggingCommand({ Bucket: 'media', Key: 'rr/copy' }))).TagSet).toEqual([{ Key: 'k', Value: 'v' }]);
    const ranged = await cluster.next().send(new GetObjectCommand({ Bucket: 'media', Key: 'rr/copy', Range: 'bytes=5242870-5242889' }));
    expect(Buffer.from(await ranged.Body!.transformToByteArray()).equals(whole.subarray(5242870, 5242890))).toBe(true);
    await cluster.next().send(new DeleteObjectCommand({ Bucket: 'media', Key: 'rr/multi' }));
    expect(md5(await getBytes(cluster.next(), 'rr/copy'))).toBe(md5(whole));
    for (const client of c) expect(await keysOf(client, 'rr/')).toEqual(['rr/copy']);
  }, 60_000);

  it('kill -9 of one node during concurrent writes: every acknowledged write is read whole from the others', async () => {
    const acked = new Map<string, string>();
    let stop = false;
    const writers = c.flatMap((client, n) => [0, 1].map(async (w) => {
      for (let k = 0; !stop; k++) {
        const key = `crash/${n}-${w}-${k}`;
        const body = versionBody(key, [500, 90_000, 600_000][k % 3]!);
        if ((await failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: body })))) === undefined) acked.set(key, md5(body));
        else if (n !== 0) throw new Error(`a write through a surviving node failed: ${key}`);
      }
    }));
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.nodes[0]!.kill();
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(writers);
    expect([...acked.keys()].some((k) => k.startsWith('crash/0-'))).toBe(true);
    for (const client of c.slice(1)) {
      for (const [key, sum] of acked) expect(md5(await getBytes(client, key)), key).toBe(sum);
    }
    await cluster.restart(0);
    c = cluster.clients;
    for (const [key, sum] of [...acked].filter(([k]) => k.startsWith('crash/0-'))) expect(md5(await getBytes(c[0]!, key))).toBe(sum);
  }, 120_000);

  it('a PostgreSQL restart during load: 503 ServiceUnavailable meanwhile, never another error; then every node recovers and nothing acknowledged is lost', async () => {
    const acked = new Map<string, string>();
    const errors = new Set<string>();
    let stop = false;
    const load = c.map(async (client, n) => {
      for (let k = 0; !stop; k++) {
        const key = `pgload/${n}-${k}`;
        const body = versionBody(key, 20_000);
        const put = await failure(client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: body })));
        if (put === undefined) acked.set(key, md5(body));
        else errors.add(`${put.status} ${put.code}`);
        const get = await failure(getBytes(client, 'hammer.bin'));
        if (get) errors.add(`${get.status} ${get.code}`);
        if (put || get) await new Promise((r) => setTimeout(r, 50));
      }
    });
    await new Promise((r) => setTimeout(r, 800));
    await cluster.pg.restart(2000);
    // Every node answers again within a few seconds.
    for (const client of c) {
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = (await failure(getBytes(client, 'hammer.bin'))) === undefined;
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ok).toBe(true);
    }
    stop = true;
    await Promise.all(load);
    expect([...errors].filter((e) => e !== '503 ServiceUnavailable' && e !== '503 SlowDown')).toEqual([]);
    expect(errors.size).toBeGreaterThan(0);
    for (const [key, sum] of acked) expect(md5(await getBytes(c[(Number(key.split('/')[1]!.split('-')[0]) + 1) % 3]!, key))).toBe(sum);
    for (const node of cluster.nodes) expect(node.process.exitCode).toBeNull();
  }, 120_000);
});
