/**
 * Versioning and lifecycle across three stateless nodes on one PostgreSQL: versions written
 * through one node are listed and read by id through the others; concurrent PUTs through every
 * node into an Enabled bucket each become exactly one version; a delete marker written through
 * one node hides the key on the others, and deleting it through a third restores it;
 * conditional writes stay atomic in a versioned bucket; the lifecycle sweep (run by the nodes,
 * one at a time, on a clock the test controls) expires what is due, once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, UploadPartCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand, PutObjectCommand, type ListObjectVersionsCommandOutput, type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { peerEnv } from '../helpers/clients.js';
import { mustRun, removeDir, tempDir } from '../helpers/peers.js';
import { findPostgresBin } from '../helpers/postgres.js';
import { CLI } from '../helpers/server.js';
import { missingPeer } from '../helpers/require-peer.js';
import { failure, startTestCluster, versionBody, versionOf, type TestCluster } from './cluster-fixture.js';

const DAY_MS = 24 * 3600 * 1000;

async function getBytes(client: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Every version and marker of the bucket (under prefix), paged through `client` a few at a time. */
async function allVersions(client: S3Client, bucket: string, prefix?: string, pageSize = 7) {
  const versions: { key: string; id: string; latest: boolean; marker: boolean }[] = [];
  let page: ListObjectVersionsCommandOutput | undefined;
  do {
    page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, MaxKeys: pageSize, KeyMarker: page?.NextKeyMarker, VersionIdMarker: page?.NextVersionIdMarker }));
    const rows = [
      ...(page.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, marker: false })),
      ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, latest: m.IsLatest!, marker: true })),
    ];
    // The SDK parts versions and markers; S3's order within a page is key, then newest first (ids are time-ordered).
    rows.sort((a, b) => (a.key === b.key ? (a.id < b.id ? 1 : -1) : a.key < b.key ? -1 : 1));
    versions.push(...rows);
  } while (page.IsTruncated);
  return versions;
}

describe.skipIf(missingPeer('postgresql (Debian package)', findPostgresBin()))('versioning on a 3-node cluster', () => {
  let cluster: TestCluster;
  let c: S3Client[];
  const clock = join(mkdtempSync(join(tmpdir(), 'offload-clock-')), 'now');
  const setClock = (ms: number) => writeFileSync(clock, String(ms));

  beforeAll(async () => {
    setClock(Date.now());
    cluster = await startTestCluster({ env: { OFFLOAD_TEST_CLOCK_FILE: clock, OFFLOAD_TEST_LIFECYCLE_SWEEP_MS: '150' } });
    c = cluster.clients;
    for (const bucket of ['vers', 'race', 'aged']) {
      await c[0]!.send(new CreateBucketCommand({ Bucket: bucket }));
      await c[1]!.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('versions written through node A are listed and read by id through node B; a marker through A hides the key on B; deleting it through C restores it', async () => {
    const ids: string[] = [];
    for (let v = 0; v < 4; v++) {
      const out = await c[0]!.send(new PutObjectCommand({ Bucket: 'vers', Key: 'photo.jpg', Body: versionBody(`p${v}`, [500, 80_000, 2_000_000, 10][v]!) }));
      expect(out.VersionId).toMatch(/^[0-9a-f]{14}/);
      ids.push(out.VersionId!);
    }
    expect(new Set(ids).size).toBe(4);
    const listed = await allVersions(c[1]!, 'vers', undefined, 1);
    expect(listed.map((v) => v.id)).toEqual([...ids].reverse());
    expect(listed.map((v) => v.latest)).toEqual([true, false, false, false]);
    for (const [v, id] of ids.entries()) expect(versionOf(await getBytes(c[1]!, 'vers', 'photo.jpg', id))).toBe(`p${v}`);
    // `offload stats` through node C counts the noncurrent versions apart (from the shared database).
    const home = tempDir('cluster-versions-stats');
    try {
      const { stdout } = await mustRun(process.execPath, [CLI, 'stats', 's3://vers'], { env: { ...peerEnv(cluster.nodes[2]!, home), AWS_ENDPOINT_URL: cluster.nodes[2]!.endpoint }, timeoutMs: 60_000 });
      expect(stdout).toMatch(/Stored now: 1 objects, 10 B/);
      expect(stdout).toMatch(/Noncurrent versions: 3, /);
    } finally {
      removeDir(home);
    }
    expect(versionOf(await getBytes(c[2]!, 'vers', 'photo.jpg'))).toBe('p3');

    const marker = await c[0]!.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'photo.jpg' }));
    expect(marker.DeleteMarker).toBe(true);
    for (const client of c.slice(1)) {
      expect(await failure(getBytes(client, 'vers', 'photo.jpg'))).toEqual({ status: 404, code: 'NoSuchKey' });
      // An old version stays readable by id.
      expect(versionOf(await getBytes(client, 'vers', 'photo.jpg', ids[1]))).toBe('p1');
    }
    const withMarker = await allVersions(c[1]!, 'vers');
    expect(withMarker[0]).toEqual({ key: 'photo.jpg', id: marker.VersionId, latest: true, marker: true });
    expect(withMarker).toHaveLength(5);

    await c[2]!.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'photo.jpg', VersionId: marker.VersionId }));
    for (const client of c) expect(versionOf(await getBytes(client, 'vers', 'photo.jpg'))).toBe('p3');
    // Removing the current version through B: the next newest is current on every node.
    await c[1]!.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'photo.jpg', VersionId: ids[3] }));
    for (const client of c) expect(versionOf(await getBytes(client, 'vers', 'photo.jpg'))).toBe('p2');
    for (const client of c) expect(await failure(getBytes(client, 'vers', 'photo.jpg', ids[3]))).toEqual({ status: 404, code: 'NoSuchVersion' });
  }, 60_000);

  it('concurrent PUTs through 3 nodes into an Enabled bucket: exactly N versions, unique ids, one latest, and it is what every node serves', async () => {
    const perNode = 12;
    const acks = await Promise.all(
      c.flatMap((client, n) => Array.from({ length: perNode }, (_, k) => client.send(new PutObjectCommand({ Bucket: 'race', Key: 'hot.bin', Body: versionBody(`n${n}-${k}`, 1000 + k * 5000) })).then((o) => o.VersionId!))),
    );
    expect(new Set(acks).size).toBe(3 * perNode);
    for (const client of c) {
      const listed = await allVersions(client, 'race');
      expect(listed).toHaveLength(3 * perNode);
      expect(new Set(listed.map((v) => v.id))).toEqual(new Set(acks));
      expect(listed.filter((v) => v.latest)).toEqual([listed[0]]);
      // Newest first: the ids (time-ordered) descend.
      expect(listed.map((v) => v.id)).toEqual([...listed.map((v) => v.id)].sort().reverse());
      const latestBody = versionOf(await getBytes(client, 'race', 'hot.bin', listed[0]!.id));
      expect(versionOf(await getBytes(client, 'race', 'hot.bin'))).toBe(latestBody);
    }
    // Conditional creates in the versioned bucket stay atomic across nodes.
    const outcomes = await Promise.all([...c, ...c].map((client, i) => failure(client.send(new PutObjectCommand({ Bucket: 'race', Key: 'once', Body: versionBody(`o${i}`, 900), IfNoneMatch: '*' })))));
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
    for (const o of outcomes) if (o) expect(['PreconditionFailed', 'ConditionalRequestConflict']).toContain(o.code);
    const etag = (await c[0]!.send(new HeadObjectCommand({ Bucket: 'race', Key: 'once' }))).ETag!;
    const matches = await Promise.all([...c, ...c].map((client, i) => failure(client.send(new PutObjectCommand({ Bucket: 'race', Key: 'once', Body: versionBody(`m${i}`, 900), IfMatch: etag })))));
    expect(matches.filter((o) => o === undefined)).toHaveLength(1);
    expect(await allVersions(c[2]!, 'race', 'once')).toHaveLength(2);
    // CompleteMultipartUpload raced through every node: one completes it, one version more.
    const { UploadId } = await c[0]!.send(new CreateMultipartUploadCommand({ Bucket: 'race', Key: 'once' }));
    const part = await c[1]!.send(new UploadPartCommand({ Bucket: 'race', Key: 'once', UploadId, PartNumber: 1, Body: versionBody('mp', 6000) }));
    const completes = await Promise.all(c.map((client) => client.send(new CompleteMultipartUploadCommand({ Bucket: 'race', Key: 'once', UploadId, MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] } })).then(
      (out) => ({ etag: out.ETag, versionId: out.VersionId }),
      (err: { name: string }) => ({ code: err.name }),
    )));
    // One completion makes the object. A racer that arrives after it has finished is answered as a
    // retried completion is (the same ETag and version, nothing written again); one that arrives
    // while it runs gets NoSuchUpload. Either way exactly one version is added (history below).
    const made = completes.filter((o): o is { etag: string; versionId: string } => 'etag' in o);
    expect(made.length).toBeGreaterThanOrEqual(1);
    expect(new Set(made.map((o) => `${o.etag} ${o.versionId}`)).size).toBe(1);
    for (const o of completes) if ('code' in o) expect(o.code).toBe('NoSuchUpload');
    const history = await allVersions(c[1]!, 'race', 'once');
    expect(history).toHaveLength(3);
    expect(versionOf(await getBytes(c[2]!, 'race', 'once', history[0]!.id))).toBe('mp');
  }, 120_000);

  it('kill -9 of one node during versioned overwrites: every acknowledged version is whole by id through the others, one latest per key', async () => {
    const acked: { key: string; id: string; version: string }[] = [];
    let stop = false;
    const writers = c.flatMap((client, n) => [0, 1].map(async (w) => {
      for (let k = 0; !stop; k++) {
        const key = `crash/${(n + w + k) % 4}`;
        const version = `c${n}-${w}-${k}`;
        const out = await client.send(new PutObjectCommand({ Bucket: 'race', Key: key, Body: versionBody(version, [500, 90_000, 600_000][k % 3]!) })).catch(() => undefined);
        if (out) acked.push({ key, id: out.VersionId!, version });
        else if (n !== 0) throw new Error(`a write through a surviving node failed: ${version}`);
      }
    }));
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.nodes[0]!.kill();
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(writers);
    expect(acked.some((a) => a.version.startsWith('c0-'))).toBe(true);
    for (const client of c.slice(1)) for (const a of acked) expect(versionOf(await getBytes(client, 'race', a.key, a.id)), a.version).toBe(a.version);
    const listed = await allVersions(c[1]!, 'race', 'crash/');
    // Every acknowledged version is listed (a write cut by the kill may have landed unacknowledged, too).
    expect(new Set(listed.map((v) => v.id))).toEqual(new Set([...listed.map((v) => v.id), ...acked.map((a) => a.id)]));
    expect(listed.filter((v) => v.latest).map((v) => v.key)).toEqual(['crash/0', 'crash/1', 'crash/2', 'crash/3']);
    await cluster.restart(0);
    c = cluster.clients;
  }, 120_000);

  it('lifecycle through the nodes: current versions expire into one marker each, noncurrent ones go, seen the same through every node', async () => {
    for (let k = 0; k < 6; k++) {
      await c[k % 3]!.send(new PutObjectCommand({ Bucket: 'aged', Key: `old/${k}`, Body: versionBody(`a${k}`, 300) }));
      await c[(k + 1) % 3]!.send(new PutObjectCommand({ Bucket: 'aged', Key: `old/${k}`, Body: versionBody(`b${k}`, 300) }));
    }
    await c[0]!.send(new PutObjectCommand({ Bucket: 'aged', Key: 'keep/me', Body: versionBody('keep', 300) }));
    await c[2]!.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: 'aged',
      LifecycleConfiguration: { Rules: [{ ID: 'old', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 5 } }] },
    }));
    // Two days on: every old/ key's current version becomes noncurrent behind one marker (every node sweeps, one at a time).
    setClock(Date.now() + 2 * DAY_MS);
    await vi.waitFor(async () => expect((await allVersions(c[1]!, 'aged', 'old/')).filter((v) => v.marker)).toHaveLength(6), { timeout: 20_000, interval: 200 });
    // A few more sweeps by every node change nothing more.
    await new Promise((r) => setTimeout(r, 1000));
    const after = await allVersions(c[2]!, 'aged', 'old/');
    expect(after).toHaveLength(18);
    expect(after.filter((v) => v.latest).every((v) => v.marker)).toBe(true);
    for (const client of c) expect(await failure(getBytes(client, 'aged', 'old/0'))).toEqual({ status: 404, code: 'NoSuchKey' });
    expect(versionOf(await getBytes(c[1]!, 'aged', 'keep/me'))).toBe('keep');
    // Ten days on: the noncurrent versions are past NoncurrentDays; then the lone markers go too (Expiration Days).
    setClock(Date.now() + 10 * DAY_MS);
    await vi.waitFor(async () => expect(await allVersions(c[0]!, 'aged', 'old/')).toEqual([]), { timeout: 20_000, interval: 200 });
    expect((await c[2]!.send(new HeadObjectCommand({ Bucket: 'aged', Key: 'keep/me' }))).ContentLength).toBe(300);
    for (const node of cluster.nodes) expect(node.process.exitCode).toBeNull();
  }, 90_000);
});
