/**
 * The Store contract's quota cases, run by runStoreConformance on every store: the 'limits'
 * configuration's maxBytes / maxObjects are enforced inside each write's commit (S3Error
 * XOffloadQuotaExceeded, nothing committed, the new blob reclaimed), counted over every version
 * kept, and answered by quotaUsage().
 */
import { Readable } from 'node:stream';
import { expect, it, vi } from 'vitest';
import { S3Error } from '../../../src/errors/s3-error.js';
import type { PutObjectInput, Store } from '../../../src/storage/types.js';

const put = (bucket: string, key: string, size: number): PutObjectInput => ({ bucket, key, body: Readable.from([Buffer.alloc(size, 1)]), owner: 'owner-1', acl: { canned: 'private' }, userMeta: {} });

async function refusal(write: Promise<unknown>): Promise<string | undefined> {
  try {
    await write;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe('XOffloadQuotaExceeded');
    return (err as S3Error).message;
  }
}

const limits = (store: Store, value: Record<string, number> | undefined) => store.setBucketConfig('b', 'limits', value && JSON.stringify(value));

/** `fresh` opens an empty store with bucket 'b'. */
export function quotaCases(fresh: () => Promise<{ store: Store; blobCount?: () => Promise<number> }>): void {
  it('quotas: counted from what the bucket holds when set, refused past the limit with nothing committed and the blob reclaimed', async () => {
    const { store, blobCount } = await fresh();
    await store.putObject(put('b', 'seed', 200_000));
    await limits(store, { maxBytes: 300_000, rps: 5 });
    expect(await store.quotaUsage('b')).toEqual([{ bucket: 'b', bytes: 200_000, objects: 1, maxBytes: 300_000 }]);
    const blobs = await blobCount?.();
    expect(await refusal(store.putObject(put('b', 'big', 100_001)))).toBe('The write would take the bucket past its quota of 300000 bytes (200000 stored).');
    expect(await store.headObject('b', 'big')).toBeUndefined();
    if (blobs !== undefined) await vi.waitFor(async () => expect(await blobCount!()).toBe(blobs), { timeout: 5000 });
    await store.putObject(put('b', 'fits', 100_000));
    // An overwrite counts the difference; a delete frees at once.
    expect(await refusal(store.putObject(put('b', 'fits', 100_001)))).toBeDefined();
    await store.putObject(put('b', 'fits', 50_000));
    await store.deleteObject('b', 'seed');
    expect(await store.quotaUsage('b')).toEqual([{ bucket: 'b', bytes: 50_000, objects: 1, maxBytes: 300_000 }]);
    await limits(store, { maxObjects: 2 });
    await store.putObject(put('b', 'two', 1));
    expect(await refusal(store.putObject(put('b', 'three', 1)))).toBe('The write would take the bucket past its quota of 2 objects.');
    // Cleared with the configuration.
    await limits(store, undefined);
    expect(await store.quotaUsage()).toEqual([]);
    await store.putObject(put('b', 'three', 1));
  });

  it('quotas: concurrent writers (one group commit) get exactly the room there is; copies and completed uploads count, parts in progress do not', async () => {
    const { store } = await fresh();
    await limits(store, { maxBytes: 5000 });
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => refusal(store.putObject(put('b', `race-${i}`, 1000)))));
    expect(results.filter((r) => r === undefined).length).toBe(5);
    await store.deleteObject('b', (await store.listObjects({ bucket: 'b', maxKeys: 1 })).objects[0]!.key);
    const source = (await store.listObjects({ bucket: 'b', maxKeys: 1 })).objects[0]!;
    const copy = (key: string) => store.copyObject({ source, bucket: 'b', key, headers: { userMeta: {} }, owner: 'owner-1', acl: { canned: 'private' }, tags: {} });
    await copy('c1');
    expect(await refusal(copy('c2'))).toBeDefined();
    await store.deleteObject('b', 'c1');
    const upload = await store.createMultipartUpload({ bucket: 'b', key: 'mp', owner: 'owner-1', headers: { userMeta: {} }, acl: { canned: 'private' }, tags: {} });
    const part = await store.putPart({ uploadId: upload.uploadId, partNumber: 1, body: Readable.from([Buffer.alloc(1500)]) });
    expect((await store.quotaUsage('b'))[0]).toMatchObject({ bytes: 4000, objects: 4 });
    expect(await refusal(store.completeMultipartUpload({ uploadId: upload.uploadId, parts: [part], etag: '"p-1"' }))).toBeDefined();
    // Refused: the upload is still there, to complete once there is room.
    await store.deleteObject('b', source.key);
    await store.completeMultipartUpload({ uploadId: upload.uploadId, parts: [part], etag: '"p-1"' });
    expect((await store.quotaUsage('b'))[0]).toMatchObject({ bytes: 4500, objects: 4 });
  });

  it('quotas with versioning: every version counts, a delete marker does not, deleting versions frees room even over a lowered quota', async (ctx) => {
    const { store } = await fresh();
    if (!store.supportsVersioning) return ctx.skip();
    await store.setBucketConfig('b', 'versioning', 'Enabled');
    await limits(store, { maxBytes: 3000 });
    const versions = [];
    for (let i = 0; i < 3; i++) versions.push((await store.putObject(put('b', 'k', 1000))).versionId!);
    expect(await refusal(store.putObject(put('b', 'k', 1)))).toBeDefined();
    const marker = (await store.deleteObject('b', 'k'))!;
    expect((await store.quotaUsage('b'))[0]).toMatchObject({ bytes: 3000, objects: 3 });
    await limits(store, { maxBytes: 100 });
    await store.deleteObject('b', 'k', marker.versionId);
    await store.deleteObject('b', 'k', versions[2]);
    expect((await store.headObject('b', 'k'))?.versionId).toBe(versions[1]);
    await store.updateObjectMeta('b', 'k', () => ({ tags: { a: 'b' } }));
    expect((await store.quotaUsage('b'))[0]).toMatchObject({ bytes: 2000, objects: 2 });
  });
}
