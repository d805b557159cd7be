// @ts-check
/**
 * The tests' own throw-away PostgreSQL and Ceph (test/helpers/postgres.ts, test/helpers/ceph.ts),
 * usable from the JS bench: esbuild (a dev dependency) bundles each TS helper with its local
 * imports into bench/out/helpers/*.mjs (packages such as `pg` stay imports), then it is imported.
 * One source of truth for the settings that work on these machines; nothing is ported by hand.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './peers.js';

const OUT = join(ROOT, 'bench/out/helpers');

/** Bundles test/helpers/<name>.ts and imports it; `patch` may rewrite the bundled text first. */
async function load(name, patch = (/** @type {string} */ text) => text) {
  const { build } = await import('esbuild');
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, `${name}.mjs`);
  await build({ entryPoints: [join(ROOT, `test/helpers/${name}.ts`)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
  const text = readFileSync(outfile, 'utf8');
  const patched = patch(text);
  if (patched !== text) writeFileSync(outfile, patched);
  // A query string per load: a rebuilt file is imported again rather than served from the module cache.
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}

/**
 * @typedef {{ url: string, port: number, dir: string, createDatabase(name: string): Promise<string>, stop(): Promise<void> }} BenchPostgres
 * @typedef {{ endpoint: string, accessKeyId: string, secretAccessKey: string, region: string, dir: string, stop(): Promise<void> }} BenchCeph
 */

/** PostgreSQL with fsync and synchronous commit on (production settings), or null when the package is missing. */
export async function startPostgres() {
  const pg = await load('postgres');
  if (!pg.findPostgresBin()) return null;
  return /** @type {Promise<BenchPostgres>} */ (pg.startPostgres({ durable: true }));
}

/** The tests' OSD size (memstore: bytes in RAM), and the bench's. */
const TEST_OSD = 'memstore device bytes = 1073741824';
const BENCH_OSD = 'memstore device bytes = 8589934592';

/**
 * A single-node Ceph with its RADOS Gateway, or null when the Debian packages are missing. The OSD
 * may hold 8 GiB instead of the tests' 1: PostgreSQL-metadata nodes keep a replaced blob for a
 * 15-minute grace period, so a bench run's overwrites pile up (memstore takes RAM only as filled).
 */
export async function startCeph() {
  const ceph = await load('ceph', (text) => {
    if (!text.includes(TEST_OSD)) throw new Error(`test/helpers/ceph.ts no longer says "${TEST_OSD}": update bench/infra.js`);
    return text.replace(TEST_OSD, BENCH_OSD);
  });
  if (!ceph.cephInstalled()) return null;
  return /** @type {Promise<BenchCeph>} */ (ceph.startCeph());
}
