// @ts-check
/**
 * `npm run bench:cluster` / `node bench/cluster.js [--quick | --smoke] [--out FILE]`: the cluster case
 * of `npm run bench` run alone (bench/cluster-case.js: PostgreSQL nodes 1-3 with blobs in a shared
 * folder and in Ceph RGW, the embedded node, the gateway as the peer, round trips per request).
 * Same as `npm run bench -- --only cluster`; the report goes to bench/out/BENCHMARKS.<mode>-cluster.md.
 */
if (!process.argv.includes('--only')) process.argv.push('--only', 'cluster');
await import('./run.js');
