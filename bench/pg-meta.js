// @ts-check
/**
 * What PostgreSQL metadata costs per request against the embedded SQLite node (latency at one
 * connection, round trips counted by PostgreSQL) is now part of the cluster case of `npm run bench`
 * (bench/cluster-case.js, bench/cluster-trips.js): this runs that case alone, like bench/cluster.js.
 */
await import('./cluster.js');
