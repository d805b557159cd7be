// @ts-check
/**
 * Load for the cluster case: one wrk per measurement whose threads are spread over the target's
 * nodes (bench/nodes.lua: thread i -> node i mod N, a round-robin of connections as a TCP load
 * balancer would make, without a proxy hop that would take CPU from the same two cores), for
 * anonymous GETs of the public object and for signed PUTs built by the AWS SDK before the clock
 * starts and replayed (bench/replay.js), so the figure is the servers', not the SDK's.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './peers.js';
import { wrk } from './load.js';
import { signedPutRequests } from './replay.js';
import { BUCKET, SDK_OPTIONS, SMALL_KEY } from './cluster-nodes.js';

/** @typedef {import('./cluster-nodes.js').Target} Target */

const LUA = join(ROOT, 'bench');

/** @param {Target} t */
const nodeEnv = (t) => ({ OFFLOAD_BENCH_NODES: t.nodes.map((n) => `127.0.0.1:${n.port}`).join(','), OFFLOAD_BENCH_LUA: LUA });

/**
 * Anonymous GETs of the small public object for `seconds` at `connections` over `threads` wrk threads.
 * @param {Target} t @param {{ connections: number, threads: number, seconds: number }} o
 */
export function getRun(t, o) {
  return wrk(`${t.nodes[0].url}/${BUCKET}/${SMALL_KEY}`, { ...o, script: join(LUA, 'nodes.lua'), env: nodeEnv(t) });
}

/**
 * Signed PutObjects of `body`: `prepared` distinct keys under `prefix/`, signed for the first node's
 * Host (every node of a cluster accepts them), then replayed in turn (overwrites once wrk has gone round).
 * @param {Target} t @param {Buffer} body @param {number} prepared @param {string} prefix @param {string} scratch
 * @param {{ connections: number, threads: number, seconds: number }} o
 */
export async function putRun(t, body, prepared, prefix, scratch, o) {
  const first = t.nodes[0];
  const requests = await signedPutRequests(first, BUCKET, body, prepared, prefix, SDK_OPTIONS);
  const file = join(scratch, `cluster-replay-${process.pid}-${Date.now()}.bin`);
  writeFileSync(file, Buffer.concat(requests.flatMap((r) => [Buffer.from(`${r.length}\n`), r])));
  try {
    return await wrk(first.url, { ...o, script: join(LUA, 'nodes-replay.lua'), scriptArgs: [file], env: nodeEnv(t) });
  } finally {
    rmSync(file, { force: true });
  }
}
