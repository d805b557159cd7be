/**
 * `offload migrate` of a versioned bucket whose versions are encrypted: every version (SSE-S3,
 * SSE-C, plain, a delete marker) crosses to PostgreSQL metadata sealed as it was (the same wrapped
 * data keys, no plaintext in the target's blobs) and reads back by version, oldest to newest, with
 * the same key; an SSE-C version still needs its customer's key.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient } from '../helpers/clients.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CLI, startServer } from '../helpers/server.js';
import { customerKey, filesContaining, markedBody, masterKeyFile } from '../sse/sse-helpers.js';

const run = promisify(execFile);
const MARKER = 'MIGRATE-VERSIONS-MARKER-3c1e';

describe('offload migrate: encrypted versions of a versioned bucket stay sealed', () => {
  let pgServer: TestPostgres;
  let temp: string;
  let key: string;
  const k = customerKey();
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64, SSECustomerKeyMD5: k.md5 };
  // Oldest first, as written to key 'doc'.
  const history = [
    { body: markedBody(MARKER, 700), sse: { ServerSideEncryption: 'AES256' as const } },
    { body: markedBody(MARKER, 150_000), sse: ssec },
    { body: markedBody('plain-version', 900), sse: {} },
    { body: markedBody(MARKER, 80_000), sse: { ServerSideEncryption: 'AES256' as const } },
  ];

  const versionsOf = async (client: S3Client) => {
    const out = await client.send(new ListObjectVersionsCommand({ Bucket: 'vault' }));
    return { versions: out.Versions ?? [], markers: out.DeleteMarkers ?? [] };
  };

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'offload-sse-migrate-versions-'));
    key = masterKeyFile(temp);
    pgServer = await startPostgres();
    const source = await startServer({ dataDir: join(temp, 'source'), args: ['--master-key-file', key] });
    const client = sdkClient(source);
    await client.send(new CreateBucketCommand({ Bucket: 'vault' }));
    await client.send(new PutBucketVersioningCommand({ Bucket: 'vault', VersioningConfiguration: { Status: 'Enabled' } }));
    for (const v of history) await client.send(new PutObjectCommand({ Bucket: 'vault', Key: 'doc', Body: v.body, ...v.sse }));
    await client.send(new PutObjectCommand({ Bucket: 'vault', Key: 'gone', Body: markedBody(MARKER, 500), ServerSideEncryption: 'AES256' }));
    await client.send(new DeleteObjectCommand({ Bucket: 'vault', Key: 'gone' }));
    await source.stop({ keepData: true });
  }, 60_000);
  afterAll(async () => {
    await pgServer?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('copies every version sealed, and each reads back by version through a node with the key', async () => {
    const target = await pgServer.createDatabase('versions');
    const blobs = join(temp, 'blobs');
    await run(process.execPath, [CLI, 'migrate', '--from', join(temp, 'source'), '--to', target, '--blobs', blobs, '--master-key-file', key], { timeout: 60_000 });
    expect(filesContaining(blobs, MARKER)).toEqual([]);
    const db = new pg.Client({ connectionString: target });
    await db.connect();
    try {
      expect((await db.query('SELECT id FROM blobs WHERE position($1::bytea in data) > 0', [Buffer.from(MARKER)])).rows).toEqual([]);
      const sealed = (await db.query("SELECT count(*)::int AS n FROM objects WHERE meta ? 'sse'")).rows[0].n;
      expect(sealed).toBe(4); // three of doc's versions and gone's
    } finally {
      await db.end();
    }

    const node = await startServer({ dataDir: join(temp, 'node'), args: ['--meta', target, '--blobs', blobs, '--master-key-file', key] });
    try {
      const client = sdkClient(node);
      const { versions, markers } = await versionsOf(client);
      expect(markers.map((m) => m.Key)).toEqual(['gone']);
      const doc = versions.filter((v) => v.Key === 'doc');
      expect(doc).toHaveLength(history.length);
      // Listed newest first: pair them with the history reversed.
      for (const [i, v] of [...history].reverse().entries()) {
        const out = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: 'doc', VersionId: doc[i]!.VersionId, ...v.sse }));
        expect(Buffer.from(await out.Body!.transformToByteArray()).equals(v.body)).toBe(true);
      }
      const ssecVersion = doc[history.length - 2]!.VersionId;
      const refused = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: 'doc', VersionId: ssecVersion })).catch((err: { $metadata: { httpStatusCode: number } }) => err.$metadata.httpStatusCode);
      expect(refused).toBe(400);
    } finally {
      await node.stop({ keepData: true });
    }
  }, 90_000);
});
