/**
 * An S3 server for the template tests: the real `offload serve` (test/helpers/server.ts) when the
 * CLI is built, otherwise the s3rver package in-process (path-style, credentials S3RVER/S3RVER,
 * no ACL enforcement). OFFLOAD_TEST_S3=s3rver forces the fallback, =offload forces the real one.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { startServer } from '../../helpers/server.js';

export interface TestS3 {
  kind: 'offload' | 's3rver';
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  client: S3Client;
  stop(): Promise<void>;
}

const BUILT_CLI = resolve(import.meta.dirname, '../../../dist/cli/main.js');

export async function startS3(): Promise<TestS3> {
  const wanted = process.env.OFFLOAD_TEST_S3;
  if (wanted !== 's3rver' && (wanted === 'offload' || existsSync(BUILT_CLI))) {
    try {
      const server = await startServer();
      return {
        kind: 'offload',
        endpoint: server.endpoint,
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        client: client(server.endpoint, server.accessKeyId, server.secretAccessKey, server.region),
        stop: () => server.stop(),
      };
    } catch (err) {
      if (wanted === 'offload') throw err;
    }
  }
  const { default: S3rver } = await import('s3rver');
  const directory = mkdtempSync(join(tmpdir(), 'offload-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await s3rver.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    kind: 's3rver',
    endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    client: client(endpoint, 'S3RVER', 'S3RVER', 'us-east-1'),
    async stop() {
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function client(endpoint: string, accessKeyId: string, secretAccessKey: string, region: string): S3Client {
  return new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
}
