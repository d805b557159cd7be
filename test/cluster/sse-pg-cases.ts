/**
 * The encryption-at-rest cases run against `--meta` nodes with each blob backend (sse-pg.test.ts:
 * a shared folder and a second local Offload; sse-pg-ceph.test.ts: Ceph's gateway). Two nodes on
 * one PostgreSQL with one master key; written through node A and read through node B.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, PutBucketEncryptionCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { customerKey, filesContaining, markedBody, masterKeyFile } from '../sse/sse-helpers.js';
import { blobsUrl, clientOf, createBucket, type S3Endpoint } from '../conformance/blobs/s3-fixture.js';
import { failure } from './cluster-fixture.js';

export const MARKER = 'PG-SSE-PLAINTEXT-MARKER-4e1b';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const ssec = (k: { b64: string; md5: string }) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64, SSECustomerKeyMD5: k.md5 });

async function get(client: S3Client, key: string, extra: Record<string, string> = {}, range?: string): Promise<{ body: Buffer; sse?: string; keyMd5?: string }> {
  const out = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: key, Range: range, ...extra }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), sse: out.ServerSideEncryption, keyMd5: out.SSECustomerKeyMD5 };
}

async function multipart(client: S3Client, key: string, parts: Buffer[], extra: Record<string, string>): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'vault', Key: key, ...extra }));
  const etags: string[] = [];
  for (const [i, part] of parts.entries()) {
    const sseC = extra.SSECustomerKey ? { SSECustomerAlgorithm: extra.SSECustomerAlgorithm, SSECustomerKey: extra.SSECustomerKey, SSECustomerKeyMD5: extra.SSECustomerKeyMD5 } : {};
    etags.push((await client.send(new UploadPartCommand({ Bucket: 'vault', Key: key, UploadId, PartNumber: i + 1, Body: part, ...sseC }))).ETag!);
  }
  await client.send(new CompleteMultipartUploadCommand({ Bucket: 'vault', Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
}

/** Where the nodes' blobs go, and how a test looks at the bytes there. */
export interface BlobBackend {
  name: string;
  /** The `--blobs` value. */
  url: string;
  /** The names of stored blobs whose bytes contain `marker`. */
  containing(marker: string): Promise<string[]>;
  /** Flips one bit of a stored blob's byte at `offset` (what a bad disk does). */
  flip(id: string, offset: number): Promise<void>;
  stop(): Promise<void>;
}

/** A shared folder of blob files (`--blobs /path`). */
export async function folderBackend(temp: string): Promise<BlobBackend> {
  const dir = join(temp, 'shared-blobs');
  const pathOf = (id: string) => join(dir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
  return {
    name: 'folder',
    url: dir,
    containing: async (marker) => filesContaining(dir, marker),
    async flip(id, offset) {
      const bytes = readFileSync(pathOf(id));
      bytes[offset] = bytes[offset]! ^ 0x01;
      writeFileSync(pathOf(id), bytes);
    },
    stop: async () => undefined,
  };
}

/** Blobs as objects of an S3 service (`--blobs s3://...`): a second Offload, or Ceph's gateway. */
export async function s3Backend(peer: S3Endpoint, stopPeer: () => Promise<void>): Promise<BlobBackend> {
  await createBucket(peer, 'backend');
  const client = clientOf(peer);
  const read = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'backend', Key: key }))).Body!.transformToByteArray());
  return {
    name: 's3',
    url: blobsUrl(peer, 'backend', 'node/'),
    async containing(marker) {
      const hits: string[] = [];
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'backend', Prefix: 'node/' }));
      for (const { Key } of listed.Contents ?? []) if ((await read(Key!)).includes(marker)) hits.push(Key!);
      // Not vacuous: the backend holds the blobs of the objects written.
      if ((listed.Contents ?? []).length < 5) hits.push(`only ${(listed.Contents ?? []).length} blobs in the backend`);
      return hits;
    },
    async flip(id, offset) {
      const bytes = await read(`node/blobs/${id}`);
      bytes[offset] = bytes[offset]! ^ 0x01;
      await client.send(new PutObjectCommand({ Bucket: 'backend', Key: `node/blobs/${id}`, Body: bytes }));
    },
    stop: stopPeer,
  };
}

interface Setup {
  pg: TestPostgres;
  nodes: TestServer[];
  backend: BlobBackend;
  stop(): Promise<void>;
}

async function startSetup(makeBackend: (temp: string) => Promise<BlobBackend>): Promise<Setup> {
  const temp = mkdtempSync(join(tmpdir(), 'offload-pg-sse-'));
  const pgServer = await startPostgres();
  const key = masterKeyFile(temp);
  const backend = await makeBackend(temp);
  const start = (i: number) => startServer({ dataDir: join(temp, `node${i}`), args: ['--meta', pgServer.url, '--blobs', backend.url, '--master-key-file', key] });
  // The first node records the master key; the second finds it recorded.
  const first = await start(0);
  const nodes = [first, await start(1)];
  return {
    pg: pgServer,
    nodes,
    backend,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop({ keepData: true })));
      await backend.stop();
      await pgServer.stop();
      rmSync(temp, { recursive: true, force: true });
    },
  };
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export function exerciseSse(label: string, makeBackend: (temp: string) => Promise<BlobBackend>, timeoutMs = 60_000): void {
  describe(`SSE on --meta nodes, blobs in ${label}`, () => {
    let setup: Setup;
    let a: S3Client;
    let b: S3Client;
    const [k1, k2] = [customerKey(), customerKey()];
    const bodies = { tiny: markedBody(MARKER, 1000), medium: markedBody(MARKER, 300_017), large: markedBody(MARKER, 2 * 1024 * 1024 + 5) };
    const parts = [markedBody(MARKER, 5 * 1024 * 1024), markedBody(`${MARKER}-2`, 70_001)];

    beforeAll(async () => {
      setup = await startSetup(makeBackend);
      [a, b] = setup.nodes.map((n) => sdkClient(n)) as [S3Client, S3Client];
      await a.send(new CreateBucketCommand({ Bucket: 'vault' }));
    }, timeoutMs);
    afterAll(async () => setup?.stop());

    it('SSE-S3 and SSE-C single PUTs through A read back whole and by range through B', async () => {
      for (const [name, body] of Object.entries(bodies)) {
        const put = await a.send(new PutObjectCommand({ Bucket: 'vault', Key: `s3-${name}`, Body: body, ServerSideEncryption: 'AES256' }));
        expect(put.ServerSideEncryption).toBe('AES256');
        await a.send(new PutObjectCommand({ Bucket: 'vault', Key: `c-${name}`, Body: body, ...ssec(k1) }));
      }
      for (const [name, body] of Object.entries(bodies)) {
        const whole = await get(b, `s3-${name}`);
        expect([md5(whole.body), whole.sse]).toEqual([md5(body), 'AES256']);
        expect((await get(b, `s3-${name}`, {}, 'bytes=650-899')).body.equals(body.subarray(650, 900))).toBe(true);
        const c = await get(b, `c-${name}`, ssec(k1));
        expect([md5(c.body), c.keyMd5]).toEqual([md5(body), k1.md5]);
        // Across a frame boundary (64 KiB) where the body has one.
        const at = Math.min(65530, body.length - 20);
        expect((await get(b, `c-${name}`, ssec(k1), `bytes=${at}-${at + 15}`)).body.equals(body.subarray(at, at + 16))).toBe(true);
      }
    }, 60_000);

    it('refuses SSE-C reads without the key or with another one (400), on GET, HEAD and copy', async () => {
      expect(await failure(b.send(new GetObjectCommand({ Bucket: 'vault', Key: 'c-medium' })))).toEqual({ status: 400, code: 'InvalidRequest' });
      expect(await failure(b.send(new GetObjectCommand({ Bucket: 'vault', Key: 'c-medium', ...ssec(k2) })))).toEqual({ status: 400, code: 'InvalidRequest' });
      expect((await failure(a.send(new HeadObjectCommand({ Bucket: 'vault', Key: 'c-tiny', ...ssec(k2) }))))?.status).toBe(400);
      expect(await failure(b.send(new CopyObjectCommand({ Bucket: 'vault', Key: 'x', CopySource: 'vault/c-tiny' })))).toEqual({ status: 400, code: 'InvalidRequest' });
      // Read once with the key on A (the hot cache could keep it), then without it on A: still refused.
      expect(md5((await get(a, 'c-tiny', ssec(k1))).body)).toBe(md5(bodies.tiny));
      expect(await failure(a.send(new GetObjectCommand({ Bucket: 'vault', Key: 'c-tiny' })))).toEqual({ status: 400, code: 'InvalidRequest' });
      expect((await get(a, 's3-tiny')).body.equals(bodies.tiny)).toBe(true);
    });

    it('multipart uploads are sealed part by part and read whole and across parts through the other node', async () => {
      await multipart(a, 'mp-s3', parts, { ServerSideEncryption: 'AES256' });
      await multipart(b, 'mp-c', parts, ssec(k1));
      const whole = Buffer.concat(parts);
      const across = parts[0]!.length - 100;
      expect(md5((await get(b, 'mp-s3')).body)).toBe(md5(whole));
      expect((await get(b, 'mp-s3', {}, `bytes=${across}-${across + 199}`)).body.equals(whole.subarray(across, across + 200))).toBe(true);
      expect(md5((await get(a, 'mp-c', ssec(k1))).body)).toBe(md5(whole));
      expect((await get(a, 'mp-c', ssec(k1), `bytes=${across}-${across + 199}`)).body.equals(whole.subarray(across, across + 200))).toBe(true);
      expect(await failure(a.send(new GetObjectCommand({ Bucket: 'vault', Key: 'mp-c', Range: 'bytes=0-9' })))).toEqual({ status: 400, code: 'InvalidRequest' });
    }, 60_000);

    it('copies share blobs when the encryption stays, and re-encrypt when the key changes', async () => {
      const c = (extra: object) => b.send(new CopyObjectCommand({ Bucket: 'vault', CopySource: 'vault/c-medium', CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: k1.b64, CopySourceSSECustomerKeyMD5: k1.md5, ...extra } as never));
      await c({ Key: 'copy-same', ...ssec(k1) });
      await c({ Key: 'copy-k2', ...ssec(k2) });
      await c({ Key: 'copy-s3', ServerSideEncryption: 'AES256' });
      await b.send(new CopyObjectCommand({ Bucket: 'vault', Key: 'copy-s3-same', CopySource: 'vault/s3-large', ServerSideEncryption: 'AES256' }));
      expect(md5((await get(a, 'copy-same', ssec(k1))).body)).toBe(md5(bodies.medium));
      expect(md5((await get(a, 'copy-k2', ssec(k2))).body)).toBe(md5(bodies.medium));
      expect(await failure(a.send(new GetObjectCommand({ Bucket: 'vault', Key: 'copy-k2', ...ssec(k1) })))).toEqual({ status: 400, code: 'InvalidRequest' });
      const s3 = await get(a, 'copy-s3');
      expect([md5(s3.body), s3.sse]).toEqual([md5(bodies.medium), 'AES256']);
      const same = await get(a, 'copy-s3-same');
      expect([md5(same.body), same.sse]).toEqual([md5(bodies.large), 'AES256']);
      const blobsOf = async (key: string) => (await sql<{ meta: { segments: { blobId: string }[] } }>(setup.pg.url, 'SELECT meta FROM objects WHERE bucket = $1 AND key = $2', ['vault', key]))[0]!.meta.segments.map((s) => s.blobId);
      expect(await blobsOf('copy-same')).toEqual(await blobsOf('c-medium'));
      expect(await blobsOf('copy-k2')).not.toEqual(await blobsOf('c-medium'));
      expect(await blobsOf('copy-s3')).not.toEqual(await blobsOf('c-medium'));
      expect(await blobsOf('copy-s3-same')).toEqual(await blobsOf('s3-large'));
    }, 60_000);

    it('bucket default encryption seals plain PUTs', async () => {
      await a.send(new CreateBucketCommand({ Bucket: 'defaulted' }));
      await a.send(new PutBucketEncryptionCommand({ Bucket: 'defaulted', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
      await a.send(new PutObjectCommand({ Bucket: 'defaulted', Key: 'd', Body: bodies.medium }));
      const out = await b.send(new GetObjectCommand({ Bucket: 'defaulted', Key: 'd' }));
      expect([md5(Buffer.from(await out.Body!.transformToByteArray())), out.ServerSideEncryption]).toEqual([md5(bodies.medium), 'AES256']);
    });

    it('keeps only ciphertext at rest: no blob byte and no blobs.data row holds the plaintext marker', async () => {
      expect(await setup.backend.containing(MARKER)).toEqual([]);
      const inline = await sql<{ n: string }>(setup.pg.url, 'SELECT count(*) AS n FROM blobs WHERE data IS NOT NULL');
      expect(Number(inline[0]!.n)).toBeGreaterThanOrEqual(2);
      const leaks = await sql<{ id: string }>(setup.pg.url, 'SELECT id FROM blobs WHERE position($1::bytea in data) > 0', [Buffer.from(MARKER)]);
      expect(leaks).toEqual([]);
      const metas = await sql<{ key: string }>(setup.pg.url, 'SELECT key FROM objects WHERE meta::text LIKE $1', [`%${MARKER}%`]);
      expect(metas).toEqual([]);
    });

    it('a flipped ciphertext byte is an integrity error, not other bytes (blob file and inline row)', async () => {
      // Larger than the hot cache's objects: streamed frame by frame, so a range over intact frames reads.
      const body = markedBody(MARKER, 2 * 1024 * 1024);
      await a.send(new PutObjectCommand({ Bucket: 'vault', Key: 'flip-file', Body: body, ServerSideEncryption: 'AES256' }));
      await a.send(new PutObjectCommand({ Bucket: 'vault', Key: 'flip-inline', Body: body.subarray(0, 5000), ...ssec(k1) }));
      const [file] = await sql<{ meta: { segments: { blobId: string }[] } }>(setup.pg.url, "SELECT meta FROM objects WHERE key = 'flip-file'");
      const id = file!.meta.segments[0]!.blobId;
      await setup.backend.flip(id, 70_000);
      const [inline] = await sql<{ meta: { segments: { blobId: string }[] } }>(setup.pg.url, "SELECT meta FROM objects WHERE key = 'flip-inline'");
      await sql(setup.pg.url, 'UPDATE blobs SET data = overlay(data placing $2::bytea from 100) WHERE id = $1', [inline!.meta.segments[0]!.blobId, Buffer.from([0x5a])]);
      expect(await failure(b.send(new GetObjectCommand({ Bucket: 'vault', Key: 'flip-file' })))).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
      // A range whose frames are intact still reads; one over the flipped frame does not.
      expect((await get(b, 'flip-file', {}, 'bytes=0-99')).body.equals(body.subarray(0, 100))).toBe(true);
      expect(await failure(b.send(new GetObjectCommand({ Bucket: 'vault', Key: 'flip-file', Range: 'bytes=69990-70100' })))).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
      expect(await failure(b.send(new GetObjectCommand({ Bucket: 'vault', Key: 'flip-inline', ...ssec(k1) })))).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
      // Both nodes still serve.
      for (const client of [a, b]) expect((await get(client, 's3-tiny')).body.equals(bodies.tiny)).toBe(true);
    });
  });
}
