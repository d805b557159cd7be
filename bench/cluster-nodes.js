// @ts-check
/**
 * The servers of the cluster case (bench/cluster-case.js): the embedded single node (SQLite, data
 * folder), clusters of `offload serve --meta postgres://... --blobs ...` nodes on one PostgreSQL with
 * their blobs in a shared folder or in Ceph's RADOS Gateway, and the gateway itself as the peer.
 * Each becomes one or more targets: a name and the nodes a load generator spreads its connections over.
 */
import { Agent } from 'node:http';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT } from './peers.js';
import { freePort, killChild, removeDir, startChild, tempDir } from './util.js';

const KEY = 'BENCHROOTKEY00000000';
const SECRET = 'benchrootsecret0000000000000000000000000';
export const BUCKET = 'cluster';
export const SMALL_KEY = 'small.bin';
export const SMALL = Buffer.alloc(10 * 1024, 7);

/**
 * The same client settings for every server: no SDK checksums beyond SigV4's payload hash (Ceph 16's
 * gateway refuses the SDK's aws-chunked trailers; Offload's own MD5 covers its bodies), so each
 * server verifies the same signature over the same headers.
 */
export const SDK_OPTIONS = /** @type {const} */ ({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

/**
 * @typedef {{ url: string, port: number, accessKeyId: string, secretAccessKey: string, client: S3Client, child?: any, stop(): Promise<void> }} Node
 * @typedef {{ name: string, kind: 'embedded' | 'postgres' | 'peer', blobs?: 'folder' | 'ceph', nodes: Node[] }} Target
 */

/** @param {string} url @param {string} accessKeyId @param {string} secretAccessKey */
export function sdkClient(url, accessKeyId, secretAccessKey) {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 32 }), requestTimeout: 60_000 },
    ...SDK_OPTIONS,
  });
}

/** One `offload serve` from this worktree's dist/ with the bench's root keys; `args` adds --meta/--blobs. */
export async function startNode(/** @type {string[]} */ args = []) {
  const port = await freePort();
  const data = tempDir('offload-bench-node-');
  const child = await startChild(process.execPath, [join(ROOT, 'bin/offload.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data, ...args], {
    env: { ...process.env, OFFLOAD_ROOT_ACCESS_KEY: KEY, OFFLOAD_ROOT_SECRET_KEY: SECRET }, ready: /offload listening on http/, name: 'offload', timeoutMs: 30000,
  });
  const url = `http://127.0.0.1:${port}`;
  /** @type {Node} */
  const node = { url, port, accessKeyId: KEY, secretAccessKey: SECRET, client: sdkClient(url, KEY, SECRET), child, stop: async () => { await killChild(child, 12000); removeDir(data); } };
  return node;
}

/** The case's bucket (public-read) with the small public object, through the first node. */
export async function seedBucket(/** @type {Node} */ node, createBucket = true) {
  if (createBucket) await node.client.send(new CreateBucketCommand({ Bucket: BUCKET, ACL: 'public-read' }));
  await node.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: SMALL_KEY, Body: SMALL, ACL: 'public-read', ContentType: 'application/octet-stream' }));
  const r = await fetch(`${node.url}/${BUCKET}/${SMALL_KEY}`);
  const body = Buffer.from(await r.arrayBuffer());
  if (r.status !== 200 || !body.equals(SMALL)) throw new Error(`anonymous GET of the seeded object through ${node.url}: ${r.status}, ${body.length} bytes`);
}

/** `count` nodes on one database with the same --blobs (the first migrates the schema, the others start beside it). */
export async function startCluster(/** @type {string} */ metaUrl, /** @type {string} */ blobs, /** @type {number} */ count) {
  const nodes = await Promise.all(Array.from({ length: count }, () => startNode(['--meta', metaUrl, '--blobs', blobs])));
  await seedBucket(nodes[0]);
  return nodes;
}

/** The `--blobs` URL for a bucket of the gateway (the test fixture's format, test/conformance/blobs/s3-fixture.ts). */
export function cephBlobsUrl(/** @type {import('./infra.js').BenchCeph} */ ceph, /** @type {string} */ bucket) {
  const q = new URLSearchParams({ endpoint: ceph.endpoint, region: ceph.region, forcePathStyle: 'true', accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey });
  return `s3://${bucket}/bench/?${q}`;
}

/** The gateway as a node of its own: the peer, with the same bucket and public object. */
export async function gatewayNode(/** @type {import('./infra.js').BenchCeph} */ ceph) {
  const port = Number(new URL(ceph.endpoint).port);
  /** @type {Node} */
  const node = { url: ceph.endpoint, port, accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey, client: sdkClient(ceph.endpoint, ceph.accessKeyId, ceph.secretAccessKey), stop: async () => undefined };
  await seedBucket(node);
  return node;
}

/** Targets of a cluster: its first 1, 2, ... nodes. */
export function clusterTargets(/** @type {Node[]} */ nodes, /** @type {'folder' | 'ceph'} */ blobs) {
  const where = blobs === 'folder' ? 'blobs in a shared folder' : 'blobs in Ceph RGW';
  return nodes.map((_, i) => /** @type {Target} */ ({ name: `PostgreSQL, ${i + 1} node${i ? 's' : ''}, ${where}`, kind: 'postgres', blobs, nodes: nodes.slice(0, i + 1) }));
}
