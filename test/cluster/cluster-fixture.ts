/**
 * A cluster for tests: one throw-away PostgreSQL (test/helpers/postgres.ts) and N real
 * `offload serve --meta postgres://... --blobs ...` processes, each with its own data folder,
 * the blobs in one shared folder (fast) or in an S3 service (Ceph's gateway). One per test file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';

export interface TestCluster {
  pg: TestPostgres;
  nodes: TestServer[];
  clients: S3Client[];
  /** The `--blobs` value every node runs with. */
  blobs: string;
  /** Starts node i again (after kill or stop), same flags, a fresh data folder. */
  restart(i: number): Promise<void>;
  /** A client per request, round-robin over the nodes. */
  next(): S3Client;
  stop(): Promise<void>;
}

export async function startTestCluster(opts: { nodes?: number; blobs?: string; env?: Record<string, string> } = {}): Promise<TestCluster> {
  const temp = mkdtempSync(join(tmpdir(), 'offload-cluster-'));
  const blobs = opts.blobs ?? join(temp, 'shared-blobs');
  const pg = await startPostgres();
  const start = (i: number) => startServer({ dataDir: join(temp, `node${i}-${randomBytes(3).toString('hex')}`), args: ['--meta', pg.url, '--blobs', blobs], env: opts.env });
  const count = opts.nodes ?? 3;
  // The first node migrates the schema; the others start at once beside it.
  const nodes = await Promise.all(Array.from({ length: count }, (_, i) => start(i)));
  const clients = nodes.map((n) => sdkClient(n));
  let turn = 0;
  const cluster: TestCluster = {
    pg,
    nodes,
    clients,
    blobs,
    async restart(i) {
      nodes[i] = await start(i);
      clients[i] = sdkClient(nodes[i]!);
    },
    next: () => clients[turn++ % clients.length]!,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop({ keepData: true })));
      await pg.stop();
      rmSync(temp, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** A body that says which version it is in its first bytes and is whole only if every byte belongs to that version. */
export function versionBody(version: string, size: number): Buffer {
  const head = Buffer.from(`${version}|`);
  const seed = Buffer.from(version.padEnd(16, '.'));
  const out = Buffer.alloc(Math.max(size, head.length));
  head.copy(out);
  for (let i = head.length; i < out.length; i++) out[i] = seed[i % seed.length]!;
  return out;
}

/** The version a body claims, or an error when its bytes are mixed. */
export function versionOf(body: Buffer): string {
  const bar = body.indexOf('|');
  if (bar < 0) throw new Error('body has no version stamp');
  const version = body.subarray(0, bar).toString();
  if (!versionBody(version, body.length).equals(body)) throw new Error(`body of version ${version} is mixed or torn`);
  return version;
}

/** HTTP status and S3 code of a failed call (undefined when it succeeded). */
export async function failure(call: Promise<unknown>): Promise<{ status?: number; code: string } | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, code: e.name };
  }
}
