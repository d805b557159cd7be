/**
 * `offload migrate` with encrypted objects: a data folder served with a master key, holding
 * SSE-S3 and SSE-C objects (inline, blob files, multipart) and plain ones, moved into PostgreSQL
 * metadata and back. The ciphertext and wrapped data keys go across as they are (the same wrapped
 * keys on both sides, no plaintext in the target's blobs), every object reads back through a
 * node served with the same key; without the key, or with another one, nothing is copied.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CLI, startServer } from '../helpers/server.js';
import { customerKey, filesContaining, markedBody, masterKeyFile } from '../sse/sse-helpers.js';

const run = promisify(execFile);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const MARKER = 'MIGRATE-SSE-MARKER-77d0';

type Enc = { key: string };
const wrappedKeys = (metas: { segments: { enc?: Enc }[] }[]) => metas.flatMap((m) => m.segments.map((s) => s.enc?.key ?? 'plain')).sort();

describe('offload migrate moves encrypted objects as they are, both ways', () => {
  let pgServer: TestPostgres;
  let temp: string;
  let key: string;
  const k = customerKey();
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64, SSECustomerKeyMD5: k.md5 };
  const bodies = { 's3-small': markedBody(MARKER, 900), 's3-file': markedBody(MARKER, 300_000), 'c-small': markedBody(MARKER, 800), 'c-file': markedBody(MARKER, 200_001), plain: markedBody('plain', 5000) };
  const parts = [markedBody(MARKER, 5 * 1024 * 1024), markedBody(MARKER, 777)];
  const migrate = (args: string[]) => run(process.execPath, [CLI, 'migrate', ...args], { timeout: 60_000 });

  const readAll = async (client: S3Client) => {
    for (const [name, body] of Object.entries(bodies)) {
      const out = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: name, ...(name.startsWith('c-') ? ssec : {}) }));
      expect(md5(Buffer.from(await out.Body!.transformToByteArray())), name).toBe(md5(body));
    }
    for (const [name, extra] of [['mp-s3', {}], ['mp-c', ssec]] as const) {
      const out = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: name, ...extra }));
      expect(md5(Buffer.from(await out.Body!.transformToByteArray())), name).toBe(md5(Buffer.concat(parts)));
    }
  };

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'offload-sse-migrate-'));
    key = masterKeyFile(temp);
    pgServer = await startPostgres();
    const source = await startServer({ dataDir: join(temp, 'source'), args: ['--master-key-file', key] });
    const client = sdkClient(source);
    await client.send(new CreateBucketCommand({ Bucket: 'vault' }));
    for (const [name, body] of Object.entries(bodies)) {
      const sse = name.startsWith('s3-') ? { ServerSideEncryption: 'AES256' as const } : name.startsWith('c-') ? ssec : {};
      await client.send(new PutObjectCommand({ Bucket: 'vault', Key: name, Body: body, ...sse }));
    }
    for (const [name, extra, partExtra] of [['mp-s3', { ServerSideEncryption: 'AES256' as const }, {}], ['mp-c', ssec, ssec]] as const) {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'vault', Key: name, ...extra }));
      const etags = [];
      for (const [i, part] of parts.entries()) etags.push((await client.send(new UploadPartCommand({ Bucket: 'vault', Key: name, UploadId, PartNumber: i + 1, Body: part, ...partExtra }))).ETag);
      await client.send(new CompleteMultipartUploadCommand({ Bucket: 'vault', Key: name, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    }
    await source.stop({ keepData: true });
  }, 60_000);
  afterAll(async () => {
    await pgServer?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('refuses without the master key, or with another one, and copies nothing', async () => {
    const target = await pgServer.createDatabase('refused');
    const args = ['--from', join(temp, 'source'), '--to', target, '--blobs', join(temp, 'refused-blobs')];
    await expect(migrate(args)).rejects.toThrow(/the source holds SSE-S3 objects \(3 under master key [0-9a-f]{16}\): give --master-key-file with that key, which the target must be served with; nothing was copied/);
    await expect(migrate([...args, '--master-key-file', masterKeyFile(temp)])).rejects.toThrow(/not all under --master-key-file's key [0-9a-f]{16}/);
    const db = new pg.Client({ connectionString: target });
    await db.connect();
    const tables = await db.query("SELECT to_regclass('buckets') AS t");
    const buckets = tables.rows[0].t ? (await db.query('SELECT count(*)::int AS n FROM buckets')).rows[0].n : 0;
    await db.end();
    expect(buckets).toBe(0);
  }, 60_000);

  it('data folder -> PostgreSQL -> data folder: same wrapped keys, ciphertext at rest, everything readable with the key', async () => {
    const target = await pgServer.createDatabase('cluster');
    const blobs = join(temp, 'cluster-blobs');
    const out = await migrate(['--from', join(temp, 'source'), '--to', target, '--blobs', blobs, '--master-key-file', key]);
    expect(out.stdout).toMatch(/migrated 1 buckets, 0 bucket settings, 7 objects \(\d+ bytes\), 0 access keys in [\d.]+ s; verified/);
    expect(out.stdout).toMatch(/serve the target with --master-key-file holding master key [0-9a-f]{16}/);
    const sqlite = new Database(join(temp, 'source', 'meta.db'), { readonly: true });
    const sourceKeys = wrappedKeys((sqlite.prepare('SELECT meta FROM objects').all() as { meta: string }[]).map((r) => JSON.parse(r.meta)));
    sqlite.close();
    const db = new pg.Client({ connectionString: target });
    await db.connect();
    expect(wrappedKeys((await db.query('SELECT meta FROM objects')).rows.map((r: { meta: { segments: { enc?: Enc }[] } }) => r.meta))).toEqual(sourceKeys);
    expect((await db.query('SELECT id FROM blobs WHERE position($1::bytea in data) > 0', [Buffer.from(MARKER)])).rows).toEqual([]);
    await db.end();
    expect(filesContaining(blobs, MARKER)).toEqual([]);

    const node = await startServer({ dataDir: join(temp, 'node'), args: ['--meta', target, '--blobs', blobs, '--master-key-file', key] });
    try {
      await readAll(sdkClient(node));
      const missing = await sdkClient(node).send(new GetObjectCommand({ Bucket: 'vault', Key: 'c-file' })).catch((err: { $metadata: { httpStatusCode: number } }) => err.$metadata.httpStatusCode);
      expect(missing).toBe(400);
    } finally {
      await node.stop({ keepData: true });
    }
    // A node with another key is refused by the migrated database.
    await expect(startServer({ dataDir: join(temp, 'other'), args: ['--meta', target, '--blobs', blobs, '--master-key-file', masterKeyFile(temp)] })).rejects.toThrow(/every node must be given the same master key file/);

    const back = join(temp, 'back');
    const again = await migrate(['--from', target, '--from-blobs', blobs, '--to', back, '--master-key-file', key]);
    expect(again.stdout).toMatch(/7 objects .* verified/);
    const served = await startServer({ dataDir: back, args: ['--master-key-file', key] });
    try {
      await readAll(sdkClient(served));
    } finally {
      await served.stop({ keepData: true });
    }
    const backDb = new Database(join(back, 'meta.db'), { readonly: true });
    expect(wrappedKeys((backDb.prepare('SELECT meta FROM objects').all() as { meta: string }[]).map((r) => JSON.parse(r.meta)))).toEqual(sourceKeys);
    backDb.close();
  }, 90_000);
});
