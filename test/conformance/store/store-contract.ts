/**
 * The Store contract: what every storage implementation must do, written against the Store
 * interface (src/storage/types.ts) only, so that another metadata database or a remote blob
 * service can run the same tests unchanged: call runStoreConformance with a function that opens
 * a fresh, empty store.
 *
 * Optional fixture hooks cover what the interface cannot show: `reopen` (the same data opened
 * again, as after a restart), `blobCount` (stored blobs, to see shared blobs reclaimed once
 * nothing references them) and `crash` (the debris a crash mid-write leaves behind).
 */
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Acl, ObjectMeta, ObjectReader, PutObjectInput, Store } from '../../../src/storage/types.js';
import { versioningCases } from './store-versioning.js';
import { quotaCases } from './store-quota.js';

export interface StoreFixture {
  store: Store;
  /** Opens the same data again (the suite has closed `store` first), as a restart would. */
  reopen?: () => Promise<Store>;
  /** How many blobs the implementation holds now (files, rows, remote objects). */
  blobCount?: () => Promise<number>;
  crash?: {
    /** Leaves what a crash in the middle of writes would: an unfinished temp blob and a stored blob no commit names. */
    leaveDebris(): Promise<void>;
    /** The debris of leaveDebris still present (empty once recovery has run). */
    debris(): Promise<string[]>;
  };
  /** Closes whatever store is open and removes the data. */
  cleanup: () => Promise<void>;
  /** The same metadata store runs the suite elsewhere with another blob backend: skip the metadata-only test at scale (listing 100,000 keys). */
  metadataOnlyElsewhere?: boolean;
}

const ACL: Acl = { canned: 'private' };
const OWNER = 'owner-1';
// Bigger than any in-memory or inline threshold an implementation is likely to have.
const LARGE = 3 * 1024 * 1024;

export function putInput(bucket: string, key: string, bytes: Buffer, extra: Partial<PutObjectInput> = {}): PutObjectInput {
  return { bucket, key, body: Readable.from([bytes]), owner: OWNER, acl: ACL, userMeta: {}, ...extra };
}

export async function readAll(reader: ObjectReader, range?: { start: number; end: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of reader.stream(range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function bytesOf(store: Store, bucket: string, key: string): Promise<Buffer | undefined> {
  const reader = await store.openObject(bucket, key);
  if (!reader) return undefined;
  try {
    return await readAll(reader);
  } finally {
    reader.close();
  }
}

export function runStoreConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture | undefined;
    let store: Store;

    async function fresh(bucket = 'b'): Promise<StoreFixture> {
      fixture = await open();
      store = fixture.store;
      await store.createBucket({ name: bucket, owner: OWNER, region: 'us-east-1', acl: ACL });
      return fixture;
    }

    async function restart(f: StoreFixture): Promise<void> {
      await store.close();
      store = await f.reopen!();
      f.store = store;
    }

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('puts, reads, overwrites and deletes objects, small and large', async () => {
      await fresh();
      for (const size of [0, 10, 100 * 1024, LARGE]) {
        const key = `obj-${size}`;
        const first = randomBytes(size);
        const meta = await store.putObject(putInput('b', key, first, { contentType: 'text/plain', userMeta: { a: '1' } }));
        expect(meta).toMatchObject({ bucket: 'b', key, size, contentType: 'text/plain', userMeta: { a: '1' } });
        expect(await store.headObject('b', key)).toMatchObject({ size, etag: meta.etag });
        expect((await bytesOf(store, 'b', key))!.equals(first)).toBe(true);
        const second = randomBytes(size + 7);
        await store.putObject(putInput('b', key, second));
        expect((await bytesOf(store, 'b', key))!.equals(second)).toBe(true);
        expect((await store.headObject('b', key))!.size).toBe(size + 7);
        expect((await store.deleteObject('b', key))?.size).toBe(size + 7);
        expect(await store.headObject('b', key)).toBeUndefined();
        expect(await store.openObject('b', key)).toBeUndefined();
        expect(await store.deleteObject('b', key)).toBeUndefined();
      }
    });

    it('counts hot-cache hits and misses when it keeps a cache', async () => {
      await fresh();
      const cache = store.hotCache;
      if (!cache) return;
      const bytes = randomBytes(200 * 1024);
      await store.putObject(putInput('b', 'hot', bytes));
      const before = { hits: cache.hits, misses: cache.misses };
      for (let i = 0; i < 3; i++) expect((await bytesOf(store, 'b', 'hot'))!.equals(bytes)).toBe(true);
      expect(cache.hits + cache.misses).toBeGreaterThan(before.hits + before.misses);
      expect(cache.hits).toBeGreaterThanOrEqual(before.hits + 2);
      const blobId = (await store.headObject('b', 'hot'))!.segments[0]!.blobId;
      expect(cache.getIfCached(blobId)?.equals(bytes)).toBe(true);
    });

    it('reads byte ranges', async () => {
      await fresh();
      const bytes = randomBytes(LARGE);
      await store.putObject(putInput('b', 'r', bytes));
      const reader = (await store.openObject('b', 'r'))!;
      expect((await readAll(reader, { start: 5, end: 1_000_004 })).equals(bytes.subarray(5, 1_000_005))).toBe(true);
      expect((await readAll(reader, { start: LARGE - 1, end: LARGE - 1 })).equals(bytes.subarray(LARGE - 1))).toBe(true);
      reader.close();
    });

    it('refuses writes to a missing bucket and deletes only empty buckets', async () => {
      await fresh();
      await expect(store.putObject(putInput('nope', 'k', Buffer.from('x')))).rejects.toMatchObject({ code: 'NoSuchBucket' });
      await expect(store.createBucket({ name: 'b', owner: OWNER, region: 'us-east-1', acl: ACL })).rejects.toMatchObject({ code: 'BucketAlreadyExists' });
      await store.putObject(putInput('b', 'k', Buffer.from('x')));
      expect(await store.bucketHasObjects('b')).toBe(true);
      await expect(store.deleteBucket('b')).rejects.toMatchObject({ code: 'BucketNotEmpty' });
      await store.deleteObject('b', 'k');
      await store.createMultipartUpload({ bucket: 'b', key: 'up', owner: OWNER, headers: { userMeta: {} }, acl: ACL, tags: {} });
      // Uploads in progress do not keep a bucket alive (as on S3).
      await store.deleteBucket('b');
      expect(store.getBucket('b')).toBeUndefined();
      expect(store.listBuckets().map((b) => b.name)).toEqual([]);
    });

    it('a reader opened before an overwrite or delete returns the old bytes whole', async () => {
      await fresh();
      for (const size of [10, LARGE]) {
        const old = randomBytes(size);
        await store.putObject(putInput('b', 'pinned', old));
        const reader = (await store.openObject('b', 'pinned'))!;
        await store.putObject(putInput('b', 'pinned', randomBytes(size)));
        const meanwhile = (await store.openObject('b', 'pinned'))!;
        await store.deleteObject('b', 'pinned');
        expect((await readAll(reader)).equals(old)).toBe(true);
        expect(reader.meta.size).toBe(size);
        expect((await readAll(meanwhile)).equals(old)).toBe(false);
        reader.close();
        meanwhile.close();
        expect(await store.headObject('b', 'pinned')).toBeUndefined();
      }
    });

    it('multipart: create, parts, list, complete, abort', async () => {
      await fresh();
      const upload = await store.createMultipartUpload({ bucket: 'b', key: 'mp', owner: OWNER, headers: { contentType: 'video/mp4', userMeta: {} }, acl: ACL, tags: { t: '1' } });
      expect(await store.getMultipartUpload('b', upload.uploadId)).toMatchObject({ key: 'mp' });
      expect(await store.getMultipartUpload('other', upload.uploadId)).toBeUndefined();
      const bodies = [randomBytes(LARGE), randomBytes(1000), randomBytes(20)];
      const parts = [];
      for (const [i, body] of bodies.entries()) parts.push(await store.putPart({ uploadId: upload.uploadId, partNumber: i + 1, body: Readable.from([body]) }));
      // Replacing a part keeps the latest bytes.
      bodies[1] = randomBytes(2000);
      parts[1] = await store.putPart({ uploadId: upload.uploadId, partNumber: 2, body: Readable.from([bodies[1]]) });
      const listed = await store.listParts(upload.uploadId, { maxParts: 2 });
      expect(listed.parts.map((p) => [p.partNumber, p.size])).toEqual([[1, LARGE], [2, 2000]]);
      expect(listed.isTruncated).toBe(true);
      expect((await store.listParts(upload.uploadId, { after: 2, maxParts: 10 })).parts.map((p) => p.partNumber)).toEqual([3]);
      const second = await store.createMultipartUpload({ bucket: 'b', key: 'mp', owner: OWNER, headers: { userMeta: {} }, acl: ACL, tags: {} });
      const uploads = (await store.listMultipartUploads('b', { maxUploads: 10 })).uploads.map((u) => u.uploadId);
      expect(uploads.sort()).toEqual([upload.uploadId, second.uploadId].sort());
      expect((await store.listMultipartUploads('b', { maxUploads: 1 })).isTruncated).toBe(true);

      await expect(store.completeMultipartUpload({ uploadId: upload.uploadId, parts: [{ partNumber: 1, size: 5, segment: { blobId: 'not-a-part', size: 5 } }], etag: '"x-1"' })).rejects.toMatchObject({ code: 'InvalidPart' });
      const chosen = [parts[0]!, parts[1]!];
      const meta = await store.completeMultipartUpload({ uploadId: upload.uploadId, parts: chosen, etag: '"abc-2"' });
      expect(meta).toMatchObject({ key: 'mp', size: LARGE + 2000, etag: '"abc-2"', partSizes: [LARGE, 2000], contentType: 'video/mp4', tags: { t: '1' } });
      expect((await bytesOf(store, 'b', 'mp'))!.equals(Buffer.concat([bodies[0]!, bodies[1]!]))).toBe(true);
      expect(await store.getMultipartUpload('b', upload.uploadId)).toBeUndefined();
      await expect(store.completeMultipartUpload({ uploadId: upload.uploadId, parts: chosen, etag: '"abc-2"' })).rejects.toMatchObject({ code: 'NoSuchUpload' });

      await store.abortMultipartUpload(second.uploadId);
      await expect(store.abortMultipartUpload(second.uploadId)).rejects.toMatchObject({ code: 'NoSuchUpload' });
      await expect(store.putPart({ uploadId: second.uploadId, partNumber: 1, body: Readable.from([Buffer.from('x')]) })).rejects.toMatchObject({ code: 'NoSuchUpload' });
      await expect(store.listParts(second.uploadId, { maxParts: 10 })).rejects.toMatchObject({ code: 'NoSuchUpload' });
      expect((await store.listMultipartUploads('b', { maxUploads: 10 })).uploads).toEqual([]);
    });

    it('copies share the source blobs, which are reclaimed only when nothing references them', async () => {
      const f = await fresh();
      const baseline = await f.blobCount?.();
      const bytes = randomBytes(LARGE);
      const source = await store.putObject(putInput('b', 'src', bytes));
      const withSource = await f.blobCount?.();
      const copy = await store.copyObject({ source, bucket: 'b', key: 'copy', headers: { contentType: 'a/b', userMeta: {} }, owner: OWNER, acl: ACL, tags: {} });
      expect(copy).toMatchObject({ size: LARGE, etag: source.etag, contentType: 'a/b' });
      // No byte copied: no new blob.
      expect(await f.blobCount?.()).toBe(withSource);
      await store.deleteObject('b', 'src');
      expect((await bytesOf(store, 'b', 'copy'))!.equals(bytes)).toBe(true);
      // A copy of a version that is gone fails instead of referencing freed blobs.
      await expect(store.copyObject({ source, bucket: 'b', key: 'late', headers: { userMeta: {} }, owner: OWNER, acl: ACL, tags: {} })).rejects.toMatchObject({ code: 'NoSuchKey' });
      await store.putObject(putInput('b', 'copy', Buffer.from('small')));
      await store.deleteObject('b', 'copy');
      if (baseline !== undefined) await vi.waitFor(async () => expect(await f.blobCount!()).toBe(baseline), { timeout: 5000 });
    });

    it('updates headers, ACL and tags without touching the bytes', async () => {
      await fresh();
      const bytes = randomBytes(1000);
      const before = await store.putObject(putInput('b', 'm', bytes));
      const after = await store.updateObjectMeta('b', 'm', () => ({ contentType: 'image/png', tags: { x: 'y' } }));
      expect(after).toMatchObject({ etag: before.etag, size: 1000, contentType: 'image/png', tags: { x: 'y' } });
      expect(await store.headObject('b', 'm')).toMatchObject({ contentType: 'image/png' });
      expect((await bytesOf(store, 'b', 'm'))!.equals(bytes)).toBe(true);
      await expect(store.updateObjectMeta('b', 'absent', () => ({}))).rejects.toMatchObject({ code: 'NoSuchKey' });
    });

    it('conditional writes: of racing writers that each require the key absent, exactly one wins', async () => {
      await fresh();
      const absent = (current: ObjectMeta | undefined) => {
        if (current) throw Object.assign(new Error('exists'), { code: 'PreconditionFailed' });
      };
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.putObject(putInput('b', 'once', Buffer.from(`writer ${i}`), { precondition: absent }))));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'PreconditionFailed' });
      const winner = (won[0] as PromiseFulfilledResult<ObjectMeta>).value;
      expect((await store.headObject('b', 'once'))!.etag).toBe(winner.etag);
      // If-Match style: only the current version's ETag may replace it.
      const ifMatch = (etag: string) => (current: ObjectMeta | undefined) => {
        if (current?.etag !== etag) throw Object.assign(new Error('changed'), { code: 'PreconditionFailed' });
      };
      await expect(store.putObject(putInput('b', 'once', Buffer.from('x'), { precondition: ifMatch('"stale"') }))).rejects.toMatchObject({ code: 'PreconditionFailed' });
      await store.putObject(putInput('b', 'once', Buffer.from('y'), { precondition: ifMatch(winner.etag) }));
      expect((await bytesOf(store, 'b', 'once'))!.toString()).toBe('y');
      // A failing beforeCommit (a bad digest) abandons the write.
      await expect(store.putObject(putInput('b', 'once', randomBytes(LARGE), { beforeCommit: () => Promise.reject(new Error('BadDigest')) }))).rejects.toThrow('BadDigest');
      expect((await bytesOf(store, 'b', 'once'))!.toString()).toBe('y');
    });

    it('many concurrent puts are all durable and visible', async () => {
      const f = await fresh();
      const bodies = new Map(Array.from({ length: 300 }, (_, i) => [`c/${i}`, randomBytes(i % 10 === 0 ? 200 * 1024 : i * 13)] as const));
      const metas = await Promise.all([...bodies].map(([key, bytes]) => store.putObject(putInput('b', key, bytes))));
      expect(metas.map((m) => m.key)).toEqual([...bodies.keys()]);
      const check = async () => {
        for (const [key, bytes] of bodies) expect((await bytesOf(store, 'b', key))!.equals(bytes), key).toBe(true);
        expect((await store.listObjects({ bucket: 'b', prefix: 'c/', maxKeys: 1000 })).objects).toHaveLength(bodies.size);
      };
      await check();
      if (f.reopen) {
        await restart(f);
        await check();
      }
    });

    it('lists 100,000 keys in UTF-8 byte order, page by page, with prefixes and delimiters', async (ctx) => {
      if ((await fresh()).metadataOnlyElsewhere) return ctx.skip();
      const keys: string[] = [];
      for (let i = 0; i < 100_000; i++) keys.push(`${['a', 'b', 'é', 'z', '~', '中', '😀'][i % 7]}/${(i % 50).toString().padStart(2, '0')}/${i}`);
      // Written through the group commit: each batch of concurrent puts shares one transaction.
      const empty = Buffer.alloc(0);
      for (let i = 0; i < keys.length; i += 5000) await Promise.all(keys.slice(i, i + 5000).map((key) => store.putObject(putInput('b', key, empty))));
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listObjects({ bucket: 'b', after, maxKeys: 1000 });
        seen.push(...page.objects.map((o) => o.key));
        if (!page.isTruncated) break;
        after = page.lastReturned;
      }
      expect(seen.length).toBe(expected.length);
      expect(seen).toEqual(expected);
      const grouped = await store.listObjects({ bucket: 'b', delimiter: '/', maxKeys: 1000 });
      expect(grouped.objects).toEqual([]);
      expect(grouped.commonPrefixes).toEqual(['a/', 'b/', 'z/', '~/', 'é/', '中/', '😀/']);
      const firstTwo = await store.listObjects({ bucket: 'b', delimiter: '/', maxKeys: 2 });
      expect(firstTwo).toMatchObject({ commonPrefixes: ['a/', 'b/'], isTruncated: true, lastReturned: 'b/' });
      expect((await store.listObjects({ bucket: 'b', delimiter: '/', after: 'b/', maxKeys: 1 })).commonPrefixes).toEqual(['z/']);
      const sub = await store.listObjects({ bucket: 'b', prefix: 'é/', delimiter: '/', maxKeys: 1000 });
      expect(sub.commonPrefixes).toHaveLength(50);
      const leaf = await store.listObjects({ bucket: 'b', prefix: 'é/07/', maxKeys: 1000 });
      expect(leaf.objects.map((o) => o.key)).toEqual(expected.filter((k) => k.startsWith('é/07/')));
      expect(await store.listObjects({ bucket: 'b', maxKeys: 0 })).toMatchObject({ objects: [], isTruncated: false });
    }, 120_000);

    it('reopened on the same data after a crash: objects intact, temp files and orphan blobs reclaimed', async (ctx) => {
      const f = await fresh();
      if (!f.reopen) return ctx.skip();
      const small = randomBytes(100);
      const large = randomBytes(LARGE);
      await store.putObject(putInput('b', 'small', small));
      await store.putObject(putInput('b', 'large', large));
      const upload = await store.createMultipartUpload({ bucket: 'b', key: 'mp', owner: OWNER, headers: { userMeta: {} }, acl: ACL, tags: {} });
      const part = await store.putPart({ uploadId: upload.uploadId, partNumber: 1, body: Readable.from([large]) });
      await f.crash?.leaveDebris();
      await restart(f);
      expect(await f.crash?.debris()).toEqual(f.crash ? [] : undefined);
      expect((await bytesOf(store, 'b', 'small'))!.equals(small)).toBe(true);
      expect((await bytesOf(store, 'b', 'large'))!.equals(large)).toBe(true);
      // An upload in progress survives a restart and can still be completed.
      await store.completeMultipartUpload({ uploadId: upload.uploadId, parts: [part], etag: '"p-1"' });
      expect((await bytesOf(store, 'b', 'mp'))!.equals(large)).toBe(true);
    });

    // Only on a store with supportsVersioning: the others skip them.
    versioningCases(fresh);
    quotaCases(fresh);
  });
}
