/**
 * The Store contract's versioning cases, run by runStoreConformance. They apply only to a store
 * whose supportsVersioning is true (a store without it skips them, and the S3 layer answers
 * versioning requests NotImplemented on it).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect, it, vi } from 'vitest';
import type { ObjectReader, PutObjectInput, Store } from '../../../src/storage/types.js';

const OWNER = 'owner-1';
const put = (bucket: string, key: string, bytes: Buffer, extra: Partial<PutObjectInput> = {}): PutObjectInput => ({ bucket, key, body: Readable.from([bytes]), owner: OWNER, acl: { canned: 'private' }, userMeta: {}, ...extra });

async function bytes(reader: ObjectReader | undefined): Promise<Buffer | undefined> {
  if (!reader) return undefined;
  try {
    const chunks: Buffer[] = [];
    for await (const c of reader.stream()) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } finally {
    reader.close();
  }
}

/** `fresh` opens an empty store with bucket 'b'; `blobCount` as in the fixture. */
export function versioningCases(fresh: () => Promise<{ store: Store; blobCount?: () => Promise<number> }>): void {
  it('versioning: Enabled keeps every version, ids unique and newest first; a delete writes a marker; deleting it restores', async (ctx) => {
    const { store } = await fresh();
    if (!store.supportsVersioning || !store.listObjectVersions) return ctx.skip();
    const legacy = await store.putObject(put('b', 'k', Buffer.from('null')));
    expect(legacy.versionId).toBeUndefined();
    await store.setBucketConfig('b', 'versioning', 'Enabled');
    const written = [];
    for (let i = 0; i < 3; i++) written.push(await store.putObject(put('b', 'k', Buffer.from(`v${i}`))));
    expect(new Set(written.map((m) => m.versionId)).size).toBe(3);
    expect((await bytes(await store.openObject('b', 'k')))!.toString()).toBe('v2');
    expect((await bytes(await store.openObject('b', 'k', { versionId: written[0]!.versionId })))!.toString()).toBe('v0');
    expect((await bytes(await store.openObject('b', 'k', { versionId: 'null' })))!.toString()).toBe('null');
    const marker = (await store.deleteObject('b', 'k'))!;
    expect(marker.deleteMarker).toBe(true);
    expect(await store.headObject('b', 'k')).toBeUndefined();
    expect((await store.headObject('b', 'k', { latestEvenIfMarker: true }))?.versionId).toBe(marker.versionId);
    const listed = await store.listObjectVersions({ bucket: 'b', maxKeys: 1000 });
    expect(listed.versions.map((v) => [v.meta.versionId ?? 'null', v.isLatest, v.meta.deleteMarker ?? false])).toEqual([
      [marker.versionId, true, true], [written[2]!.versionId, false, false], [written[1]!.versionId, false, false], [written[0]!.versionId, false, false], ['null', false, false],
    ]);
    // Paged by (key, version id): the same sequence, one at a time.
    const paged = [];
    let page = await store.listObjectVersions({ bucket: 'b', maxKeys: 1 });
    for (;;) {
      paged.push(...page.versions.map((v) => v.meta.versionId ?? 'null'));
      if (!page.isTruncated) break;
      page = await store.listObjectVersions({ bucket: 'b', maxKeys: 1, keyMarker: page.nextKeyMarker, versionIdMarker: page.nextVersionIdMarker });
    }
    expect(paged).toEqual(listed.versions.map((v) => v.meta.versionId ?? 'null'));
    await store.deleteObject('b', 'k', marker.versionId);
    expect((await bytes(await store.openObject('b', 'k')))!.toString()).toBe('v2');
    expect(await store.bucketHasObjects('b')).toBe(true);
  });

  it('versioning: Suspended replaces the null version; deleting versions by id reclaims their blobs; a pinned reader outlives its version', async (ctx) => {
    const { store, blobCount } = await fresh();
    if (!store.supportsVersioning || !store.listObjectVersions) return ctx.skip();
    const big = () => randomBytes(3 * 1024 * 1024);
    await store.setBucketConfig('b', 'versioning', 'Enabled');
    const kept = await store.putObject(put('b', 'k', big()));
    await store.setBucketConfig('b', 'versioning', 'Suspended');
    const firstNull = big();
    await store.putObject(put('b', 'k', firstNull));
    const reader = (await store.openObject('b', 'k', { versionId: 'null' }))!;
    const secondNull = await store.putObject(put('b', 'k', big()));
    expect(secondNull.versionId).toBeUndefined();
    // The first null version is gone, but the reader pinned before holds its bytes.
    expect((await bytes(reader))!.equals(firstNull)).toBe(true);
    const ids = (await store.listObjectVersions({ bucket: 'b', maxKeys: 10 })).versions.map((v) => v.meta.versionId ?? 'null');
    expect(ids).toEqual(['null', kept.versionId]);
    // A copy shares the old version's blobs; the blob stays until neither references it.
    const copy = await store.copyObject({ source: (await store.headObject('b', 'k', { versionId: kept.versionId }))!, bucket: 'b', key: 'copy', headers: { userMeta: {} }, owner: OWNER, acl: { canned: 'private' }, tags: {} });
    expect(copy.size).toBe(kept.size);
    await store.deleteObject('b', 'k', kept.versionId);
    await store.deleteObject('b', 'k', 'null');
    expect(await store.headObject('b', 'k', { latestEvenIfMarker: true })).toBeUndefined();
    // Files go once their commit is durable, asynchronously.
    if (blobCount) await vi.waitFor(async () => expect(await blobCount()).toBe(1), { timeout: 5000 });
    await store.deleteObject('b', 'copy', 'null');
    if (blobCount) await vi.waitFor(async () => expect(await blobCount()).toBe(0), { timeout: 5000 });
    expect(await store.bucketHasObjects('b')).toBe(false);
  });

  it('versioning: a precondition sees the current version, a marker counts as absent; tags per version', async (ctx) => {
    const { store } = await fresh();
    if (!store.supportsVersioning) return ctx.skip();
    await store.setBucketConfig('b', 'versioning', 'Enabled');
    const first = await store.putObject(put('b', 'k', Buffer.from('a')));
    await store.deleteObject('b', 'k');
    let seen: unknown = 'not called';
    await store.putObject(put('b', 'k', Buffer.from('b'), { precondition: (current) => void (seen = current) }));
    expect(seen).toBeUndefined();
    await store.updateObjectMeta('b', 'k', () => ({ tags: { old: 'yes' } }), first.versionId);
    expect((await store.headObject('b', 'k', { versionId: first.versionId }))?.tags).toEqual({ old: 'yes' });
    expect((await store.headObject('b', 'k'))?.tags).toEqual({});
  });
}
