/**
 * What must hold between several Store instances on the same data (several nodes of a cluster,
 * or worker processes): each request calls refresh() first, and then sees every write another
 * instance acknowledged before; conditional writes and CompleteMultipartUpload are atomic
 * across instances. Call runCrossInstanceConformance with a function that opens N >= 2 stores
 * on one fresh, shared data set.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Acl, ObjectMeta, Store } from '../../../src/storage/types.js';
import { putInput, readAll } from './store-contract.js';

export interface CrossInstanceFixture {
  /** At least two stores on the same data. */
  stores: Store[];
  cleanup: () => Promise<void>;
}

const ACL: Acl = { canned: 'private' };
const OWNER = 'owner-1';
const LARGE = 3 * 1024 * 1024;

const failed = (message: string) => Object.assign(new Error(message), { code: 'PreconditionFailed' });
const absent = (current: ObjectMeta | undefined) => {
  if (current) throw failed('exists');
};
const ifMatch = (etag: string) => (current: ObjectMeta | undefined) => {
  if (current?.etag !== etag) throw failed('changed');
};

/** As a request would: refresh first, then read the whole object (undefined when absent). */
async function requestBytes(store: Store, bucket: string, key: string): Promise<Buffer | undefined> {
  await store.refresh();
  const reader = await store.openObject(bucket, key);
  if (!reader) return undefined;
  try {
    return await readAll(reader);
  } finally {
    reader.close();
  }
}

export function runCrossInstanceConformance(name: string, open: () => Promise<CrossInstanceFixture>): void {
  describe(`Store across instances: ${name}`, () => {
    let fixture: CrossInstanceFixture | undefined;
    let a: Store;
    let b: Store;

    async function fresh(): Promise<Store[]> {
      fixture = await open();
      [a, b] = fixture.stores as [Store, Store];
      await a.createBucket({ name: 'b', owner: OWNER, region: 'us-east-1', acl: ACL });
      await Promise.all(fixture.stores.map((s) => s.refresh()));
      return fixture.stores;
    }

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('a write through one is read whole through another at once: new, overwritten, deleted, listed', async () => {
      await fresh();
      for (const size of [10, 100 * 1024, LARGE]) {
        const key = `k-${size}`;
        // b has looked first, and may have cached the absence.
        expect(await requestBytes(b, 'b', key)).toBeUndefined();
        const first = randomBytes(size);
        await a.putObject(putInput('b', key, first));
        expect((await requestBytes(b, 'b', key))!.equals(first)).toBe(true);
        const second = randomBytes(size + 1);
        await a.putObject(putInput('b', key, second));
        expect((await requestBytes(b, 'b', key))!.equals(second)).toBe(true);
        expect((await b.listObjects({ bucket: 'b', maxKeys: 100 })).objects.map((o) => o.key)).toContain(key);
        await a.deleteObject('b', key);
        expect(await requestBytes(b, 'b', key)).toBeUndefined();
        expect(await b.headObject('b', key)).toBeUndefined();
        expect((await b.listObjects({ bucket: 'b', maxKeys: 100 })).objects.map((o) => o.key)).not.toContain(key);
      }
    });

    it('refresh() moves the generation only when another instance committed', async () => {
      await fresh();
      await b.refresh();
      const before = b.generation;
      await b.refresh();
      expect(b.generation).toBe(before);
      await a.putObject(putInput('b', 'g', Buffer.from('x')));
      await b.refresh();
      expect(b.generation).not.toBe(before);
      const after = b.generation;
      await a.setBucketConfig('b', 'cors', '<CORSConfiguration/>');
      await b.refresh();
      expect(b.generation).not.toBe(after);
    });

    it('buckets and their configuration written through one are seen through another', async () => {
      await fresh();
      await a.createBucket({ name: 'other', owner: OWNER, region: 'us-east-1', acl: ACL });
      await b.refresh();
      expect(b.getBucket('other')).toMatchObject({ name: 'other', owner: OWNER });
      expect(b.listBuckets().map((x) => x.name)).toEqual(['b', 'other']);
      await a.setBucketConfig('other', 'policy', '{"Version":"2012-10-17"}');
      await a.setBucketAcl('other', { canned: 'public-read' });
      await b.refresh();
      expect(b.getBucketConfig('other', 'policy')).toBe('{"Version":"2012-10-17"}');
      expect(b.getBucket('other')?.acl).toEqual({ canned: 'public-read' });
      await a.setBucketConfig('other', 'policy', undefined);
      await a.deleteBucket('other');
      await b.refresh();
      expect(b.getBucketConfig('other', 'policy')).toBeUndefined();
      expect(b.getBucket('other')).toBeUndefined();
      await expect(b.putObject(putInput('other', 'k', Buffer.from('x')))).rejects.toMatchObject({ code: 'NoSuchBucket' });
    });

    it('of concurrent If-None-Match: * PUTs through every instance, exactly one wins', async () => {
      const stores = await fresh();
      for (const [round, size] of [10, LARGE].entries()) {
        const key = `once-${round}`;
        const writers = stores.flatMap((s, i) => [0, 1].map((j) => s.putObject(putInput('b', key, randomBytes(size), { precondition: absent, userMeta: { writer: `${i}.${j}` } }))));
        const results = await Promise.allSettled(writers);
        const won = results.filter((r): r is PromiseFulfilledResult<ObjectMeta> => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'PreconditionFailed' });
        for (const s of stores) {
          await s.refresh();
          expect((await s.headObject('b', key))?.etag).toBe(won[0]!.value.etag);
        }
      }
    });

    it('of concurrent If-Match PUTs on the same version through every instance, exactly one wins', async () => {
      const stores = await fresh();
      const base = await a.putObject(putInput('b', 'm', Buffer.from('base')));
      await Promise.all(stores.map((s) => s.refresh()));
      // Every instance has read (and may have cached) the base version first.
      for (const s of stores) expect((await s.headObject('b', 'm'))?.etag).toBe(base.etag);
      const results = await Promise.allSettled(stores.map((s, i) => s.putObject(putInput('b', 'm', Buffer.from(`next ${i}`), { precondition: ifMatch(base.etag) }))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect((await requestBytes(b, 'b', 'm'))!.toString()).toBe(`next ${winner}`);
    });

    it('of concurrent CompleteMultipartUpload calls through every instance, exactly one completes it', async () => {
      const stores = await fresh();
      const upload = await a.createMultipartUpload({ bucket: 'b', key: 'mp', owner: OWNER, headers: { userMeta: {} }, acl: ACL, tags: {} });
      const bodies = [randomBytes(LARGE), randomBytes(1000)];
      // Parts through different instances.
      const parts = await Promise.all(bodies.map((body, i) => stores[i % stores.length]!.putPart({ uploadId: upload.uploadId, partNumber: i + 1, body: Readable.from([body]) })));
      const results = await Promise.allSettled(stores.map((s) => s.completeMultipartUpload({ uploadId: upload.uploadId, parts, etag: '"mp-2"' })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'NoSuchUpload' });
      for (const s of stores) expect((await requestBytes(s, 'b', 'mp'))!.equals(Buffer.concat(bodies))).toBe(true);
      expect(await b.getMultipartUpload('b', upload.uploadId)).toBeUndefined();
    });

    it('concurrent overwrites through every instance leave one whole version, never a mixed one', async () => {
      const stores = await fresh();
      const bodies = stores.map(() => randomBytes(200 * 1024));
      for (let round = 0; round < 5; round++) {
        await Promise.all(stores.map((s, i) => s.putObject(putInput('b', 'hammer', bodies[i]!))));
        const seen = await Promise.all(stores.map((s) => requestBytes(s, 'b', 'hammer')));
        const first = seen[0]!;
        expect(bodies.some((body) => body.equals(first))).toBe(true);
        for (const bytes of seen) expect(bytes!.equals(first)).toBe(true);
      }
    });
  });
}
