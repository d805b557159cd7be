/**
 * `offload keys rotate-master --meta postgres://...` while nodes serve: a node started with the
 * new key and the old one as --previous-master-key-file reads every object throughout the
 * rotation (a reader loop runs during it), and afterwards; no data key stays wrapped by the old
 * key (objects, parts of an upload in progress); new writes use the new key; a node holding
 * only the old key, another key or none is refused at start, one holding only the new key reads
 * everything.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterKeyFromHex } from '../../src/storage/encryption/keys.js';
import { sdkClient } from '../helpers/clients.js';
import { mustRun } from '../helpers/peers.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CLI, startServer, type TestServer } from '../helpers/server.js';
import { customerKey, markedBody, masterKeyFile } from '../sse/sse-helpers.js';
import { failure } from './cluster-fixture.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const idOf = (file: string) => masterKeyFromHex(readFileSync(file, 'utf8').trim()).id;

async function get(client: S3Client, key: string, extra: object = {}): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: key, ...extra }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('rotate-master on PostgreSQL metadata while nodes serve', () => {
  let pgServer: TestPostgres;
  let temp: string;
  let oldKey: string;
  let newKey: string;
  let blobs: string;
  const nodes: TestServer[] = [];
  const start = async (name: string, keyArgs: string[]) => {
    const node = await startServer({ dataDir: join(temp, name), args: ['--meta', pgServer.url, '--blobs', blobs, ...keyArgs] });
    nodes.push(node);
    return node;
  };
  const sql = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: pgServer.url });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const wrappedBy = async (id: string) => Number((await sql<{ n: string }>("SELECT (SELECT count(*) FROM objects WHERE jsonb_path_exists(meta, '$.** ? (@.kek.master == $id)', $1)) + (SELECT count(*) FROM parts WHERE jsonb_path_exists(data, '$.** ? (@.kek.master == $id)', $1)) AS n", [JSON.stringify({ id })]))[0]!.n);
  const medium = markedBody('medium', 300_001);
  const small = markedBody('small', 1000);
  const parts = [markedBody('part1', 5 * 1024 * 1024), markedBody('part2', 1234)] as const;
  const whole = Buffer.concat(parts);
  const bodies: Record<string, Buffer> = { small, medium, large: markedBody('large', 2 * 1024 * 1024 + 7) };
  const k = customerKey();
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64, SSECustomerKeyMD5: k.md5 };
  let uploadId: string;
  let firstPart: string;

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'offload-pg-rotate-'));
    blobs = join(temp, 'blobs');
    [oldKey, newKey] = [masterKeyFile(temp), masterKeyFile(temp)];
    pgServer = await startPostgres();
    const a = sdkClient(await start('a', ['--master-key-file', oldKey]));
    await a.send(new CreateBucketCommand({ Bucket: 'vault' }));
    for (const [name, body] of Object.entries(bodies)) await a.send(new PutObjectCommand({ Bucket: 'vault', Key: name, Body: body, ServerSideEncryption: 'AES256' }));
    await a.send(new PutObjectCommand({ Bucket: 'vault', Key: 'customer', Body: medium, ...ssec }));
    const mp = await a.send(new CreateMultipartUploadCommand({ Bucket: 'vault', Key: 'mp', ServerSideEncryption: 'AES256' }));
    const etags = [];
    for (const [i, part] of parts.entries()) etags.push((await a.send(new UploadPartCommand({ Bucket: 'vault', Key: 'mp', UploadId: mp.UploadId, PartNumber: i + 1, Body: part }))).ETag!);
    await a.send(new CompleteMultipartUploadCommand({ Bucket: 'vault', Key: 'mp', UploadId: mp.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    bodies.mp = whole;
    uploadId = (await a.send(new CreateMultipartUploadCommand({ Bucket: 'vault', Key: 'open', ServerSideEncryption: 'AES256' }))).UploadId!;
    firstPart = (await a.send(new UploadPartCommand({ Bucket: 'vault', Key: 'open', UploadId: uploadId, PartNumber: 1, Body: parts[0] }))).ETag!;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await pgServer?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('re-wraps every data key while a node with both keys keeps reading every object', async () => {
    const b = sdkClient(await start('b', ['--master-key-file', newKey, '--previous-master-key-file', oldKey]));
    // Before the rotation the cluster's recorded key is the old one: B wraps with it, so A can read B's writes.
    await b.send(new PutObjectCommand({ Bucket: 'vault', Key: 'by-b', Body: medium, ServerSideEncryption: 'AES256' }));
    bodies['by-b'] = medium;
    expect(md5(await get(sdkClient(nodes[0]!), 'by-b'))).toBe(md5(medium));
    // Rows: small, medium, large, mp (two data keys in one row), by-b, and the open upload's part.
    expect(await wrappedBy(idOf(oldKey))).toBe(6);
    let reading = true;
    let reads = 0;
    const failures: string[] = [];
    const loop = (async () => {
      while (reading) {
        for (const [key, body] of Object.entries(bodies)) {
          const got = await get(b, key).catch((err: Error) => Buffer.from(`error ${err.name}`));
          if (md5(got) !== md5(body)) failures.push(`${key}: ${got.subarray(0, 40).toString()}`);
          reads++;
        }
      }
    })();
    const out = await mustRun(process.execPath, [CLI, 'keys', 'rotate-master', '--old', oldKey, '--new', newKey, '--meta', pgServer.url], { timeoutMs: 60_000 });
    reading = false;
    await loop;
    expect(out.stdout).toMatch(new RegExp(`re-wrapped 7 data keys \\(5 object versions, 1 parts of uploads in progress\\) in \\d passes: master key ${idOf(oldKey)} -> ${idOf(newKey)}`));
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(await wrappedBy(idOf(oldKey))).toBe(0);
    for (const [key, body] of Object.entries(bodies)) expect(md5(await get(b, key))).toBe(md5(body));
    expect(md5(await get(b, 'customer', ssec))).toBe(md5(medium));
    // The upload in progress completes with its re-wrapped part.
    const second = (await b.send(new UploadPartCommand({ Bucket: 'vault', Key: 'open', UploadId: uploadId, PartNumber: 2, Body: parts[1] }))).ETag!;
    await b.send(new CompleteMultipartUploadCommand({ Bucket: 'vault', Key: 'open', UploadId: uploadId, MultipartUpload: { Parts: [{ ETag: firstPart, PartNumber: 1 }, { ETag: second, PartNumber: 2 }] } }));
    expect(md5(await get(b, 'open'))).toBe(md5(whole));
    // New writes take the new key (rotate-master waited until the nodes had re-read the record).
    await b.send(new PutObjectCommand({ Bucket: 'vault', Key: 'after', Body: small, ServerSideEncryption: 'AES256' }));
    expect(await wrappedBy(idOf(oldKey))).toBe(0);
    // A node still running with only the old key cannot unwrap the new wrapping: an error, never other bytes;
    // and it refuses SSE-S3 writes (503) rather than wrap data keys with a key the cluster no longer uses.
    const stale = sdkClient(nodes[0]!);
    expect(await failure(stale.send(new GetObjectCommand({ Bucket: 'vault', Key: 'large' })))).toEqual({ status: 500, code: 'XOffloadIntegrityError' });
    expect(await failure(stale.send(new PutObjectCommand({ Bucket: 'vault', Key: 'stale', Body: small, ServerSideEncryption: 'AES256' })))).toEqual({ status: 503, code: 'ServiceUnavailable' });
    await stale.send(new PutObjectCommand({ Bucket: 'vault', Key: 'stale-plain', Body: small }));
  }, 60_000);

  it('refuses a node started with only the old key, another key or none; one with only the new key reads everything', async () => {
    await expect(start('c', ['--master-key-file', oldKey])).rejects.toThrow(/which `offload keys rotate-master` replaced by [0-9a-f]{16}: start this node with the new key file/);
    await expect(start('e', ['--master-key-file', masterKeyFile(temp)])).rejects.toThrow(/--master-key-file holds master key [0-9a-f]{16}, but the metadata database's data keys are wrapped by master key [0-9a-f]{16}: every node must be given the same master key file/);
    await expect(start('f', [])).rejects.toThrow(/are encrypted under master key [0-9a-f]{16}: --master-key-file must hold it/);
    const d = sdkClient(await start('d', ['--master-key-file', newKey]));
    for (const key of ['small', 'medium', 'large', 'mp', 'by-b', 'open', 'after']) expect((await get(d, key)).length).toBeGreaterThan(0);
    expect(md5(await get(d, 'customer', ssec))).toBe(md5(medium));
    // Running it again finds nothing left to do.
    const again = await mustRun(process.execPath, [CLI, 'keys', 'rotate-master', '--old', oldKey, '--new', newKey, '--meta', pgServer.url], { timeoutMs: 30_000 });
    expect(again.stdout).toMatch(/re-wrapped 0 data keys/);
  }, 60_000);
});
