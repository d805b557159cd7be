// @ts-check
/**
 * Benchmark harness entry: `npm run bench` (full), `-- --quick` (under two minutes), `-- --smoke` (seconds;
 * missing peers are n/a; exits non-zero only if Offload fails). `--out FILE` overrides where the report goes
 * (full: BENCHMARKS.md; quick/smoke: bench/out/BENCHMARKS.<mode>.md). `--only sync` runs just the sync
 * case (report: bench/out/BENCHMARKS.<mode>-sync.md unless --out); `--only origin` the origin-bucket case;
 * `--only cluster` the cluster case (PostgreSQL nodes, Ceph RGW as the peer: bench/cluster-case.js);
 * `--only sse` the encryption-at-rest and rate-limiter cases (bench/sse-case.js).
 */
import './env.js';
import { mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ROOT, startOffload, startNginx, startS3rver } from './peers.js';
import { smallGet, largeGet, rangeGet, signedPut, listPages } from './cases.js';
import { copyPythonDocs, DOCS_TOOLS, makeSyncTree, SYNC_TOOLS, timeRerun, timeSync } from './sync.js';
import { environment, writeReport } from './report.js';
import { WRK } from './load.js';
import { tailAt256, mixedLoad } from './tail.js';
import { originCase } from './origin.js';
import { clusterCase } from './cluster-case.js';
import { sseCases } from './sse-case.js';
import { tempDir, cleanupAll, onCleanup, rssSampler, median, fmt } from './util.js';

const argv = process.argv.slice(2);
const mode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : argv.includes('--tail') ? 'tail' : 'full';
const outArg = argv.indexOf('--out');
const workersArg = argv.indexOf('--workers');
/** `--workers N` runs Offload with N server processes (default: the server's own default, one). */
const workers = workersArg >= 0 ? Number(argv[workersArg + 1]) : undefined;
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? argv[onlyArg + 1] : undefined;
if (only !== undefined && !['sync', 'origin', 'cluster', 'sse'].includes(only)) throw new Error(`--only: the cases that run alone are "sync", "origin", "cluster" and "sse", got "${only}"`);
const outFile = resolve(outArg >= 0 ? argv[outArg + 1] : only ? join(ROOT, `bench/out/BENCHMARKS.${mode}-${only}.md`) : mode === 'full' ? join(ROOT, 'BENCHMARKS.md') : join(ROOT, `bench/out/BENCHMARKS.${mode}.md`));
const MiB = 1 << 20;
const TWIN = 'Offload --workers 2';
const NGINX1 = 'nginx, 1 worker';
const PARAMS = {
  full: { rounds: 3, secs: 5, bigGet: 64 * MiB, listCount: 100_000, s3rverList: 10_000, fillBudgetS: 480, syncFiles: 5000, syncBig: 100 * MiB, syncRounds: 3, syncTimeoutS: 900 },
  quick: { rounds: 2, secs: 2, bigGet: 64 * MiB, listCount: 10_000, s3rverList: 1000, fillBudgetS: 10, syncFiles: 500, syncBig: 20 * MiB, syncRounds: 1, syncTimeoutS: 120 },
  tail: { rounds: 3, secs: 5, bigGet: 2 * MiB, listCount: 0, s3rverList: 0, fillBudgetS: 0, syncFiles: 0, syncBig: 0, syncRounds: 0, syncTimeoutS: 0 },
  smoke: { rounds: 1, secs: 1, bigGet: 2 * MiB, listCount: 1000, s3rverList: 1000, fillBudgetS: 20, syncFiles: 20, syncBig: 1 * MiB, syncRounds: 1, syncTimeoutS: 60 },
}[mode];

const t0 = Date.now();
const loadavg = () => readFileSafe('/proc/loadavg').split(' ').slice(0, 3).join(' ');
const loadStart = loadavg();
const log = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);
/** @type {string[]} */ const problems = [];
let offloadFailed = false;
const sampler = rssSampler(200);
const ctx = {
  rounds: PARAMS.rounds,
  secs: PARAMS.secs,
  log,
  label: (l) => { sampler.label(l); log(`case ${l}`); },
  fail: (s) => { offloadFailed = true; problems.push(`Offload: ${s}`); console.error(`bench: OFFLOAD PROBLEM: ${s}`); },
};

let interrupted = false;
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`bench: ${sig}, cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

function readFileSafe(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Starts a peer; a missing or failing one is n/a (noted), never fatal. */
async function optionalPeer(name, start) {
  try {
    const p = await start();
    if (!p) problems.push(`${name}: not installed, its columns are n/a`);
    else onCleanup(() => p.stop());
    return p;
  } catch (err) {
    problems.push(`${name}: could not start (${/** @type {Error} */ (err).message.slice(0, 300)}), its columns are n/a`);
    return null;
  }
}

/** Uploads the GET objects everywhere and checks an anonymous GET of each. */
async function seed(servers, nginxRoot, bucket, objects) {
  mkdirSync(join(nginxRoot, bucket), { recursive: true });
  for (const o of objects) writeFileSync(join(nginxRoot, bucket, o.key), o.body);
  for (const s of servers) {
    if (!s.client) continue;
    if (s.name === 'Offload') await s.client.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const o of objects) await s.client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body, ACL: 'public-read', ContentType: 'application/octet-stream' }));
  }
  const ok = [];
  for (const s of servers) {
    let bad;
    for (const o of objects) {
      const r = await fetch(s.objectUrl(bucket, o.key));
      const got = Buffer.from(await r.arrayBuffer());
      if (r.status !== 200 || !got.equals(o.body)) bad = `anonymous GET ${o.key}: ${r.status}, ${got.length} bytes`;
    }
    if (!bad) ok.push(s);
    else if (s.name === 'Offload') throw new Error(`Offload ${bad}`);
    else problems.push(`${s.name}: ${bad}; left out of the GET cases`);
  }
  return ok;
}

/** Case 6: sync tools, alternating, fresh bucket per run. */
async function syncCase(offload) {
  /** @type {import('./report.js').CaseResult} */
  const c = { id: 6, title: `Sync of ${PARAMS.syncFiles.toLocaleString('en-US')} small files (1-20 KiB) + one ${PARAMS.syncBig / MiB} MiB file to a fresh Offload bucket`, columns: SYNC_TOOLS.map((t) => t.name), rows: [], notes: [] };
  ctx.label('6: sync');
  const src = makeSyncTree(PARAMS.syncFiles, PARAMS.syncBig);
  /** @type {Record<string, { first: number[], rerun: number[] }>} */ const res = {};
  /** @type {Record<string, string>} */ const failed = {};
  for (let round = 1; round <= PARAMS.syncRounds; round++) {
    for (const [i, tool] of SYNC_TOOLS.entries()) {
      if (failed[tool.name]) continue;
      const r = await timeSync(tool, offload, src, `sync-${i}-${round}`, PARAMS.syncTimeoutS * 1000, PARAMS.syncFiles + 1);
      log(`  sync round ${round} ${tool.name}: first ${fmt(r.first, 2)} s, re-run ${fmt(r.rerun, 2)} s${r.error ? ` ERROR ${r.error}` : ''}`);
      if (r.error) { failed[tool.name] = r.error; continue; }
      (res[tool.name] ??= { first: [], rerun: [] }).first.push(r.first);
      res[tool.name].rerun.push(r.rerun);
    }
  }
  for (const [name, err] of Object.entries(failed)) {
    c.notes.push(`${name}: ${err}`);
    delete res[name];
  }
  const first = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v.first)]));
  const rerun = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v.rerun)]));
  const best = (m) => Math.min(...SYNC_TOOLS.slice(1).map((t) => m[t.name]).filter(Number.isFinite));
  const self = SYNC_TOOLS[0].name;
  const faster = (m) => (Number.isFinite(m[self]) && Number.isFinite(best(m)) ? m[self] < best(m) : null);
  const scaled = mode === 'full' ? '' : ` (scaled: ${PARAMS.syncFiles} files)`;
  c.rows.push({ metric: 'first run, s', values: first, better: 'lower', target: { text: 'faster than the fastest of rclone/aws/s3cmd', met: faster(first) } });
  c.rows.push({ metric: 'no-change re-run, s', values: rerun, better: 'lower', target: { text: 'faster than the fastest of rclone/aws/s3cmd', met: faster(rerun) } });
  c.rows.push({ metric: 'no-change re-run, s', values: rerun, better: 'lower', target: { text: `< 2 s for 5,000 files${scaled}`, met: Number.isFinite(rerun[self]) ? rerun[self] < 2 : null } });
  await docsRerunRows(offload, c);
  c.notes.push('Each tool with its default settings (offload sync: --quiet --no-progress and a per-bucket --state file in a temp dir; rclone: env-configured remote; aws: /usr/bin/aws v2 --only-show-errors; s3cmd: config file, use_https False). Seconds are wall time of the whole command, start-up included.');
  return c;
}

/** The no-change re-run of the Python HTML docs (a real site tree), offload sync with and without --precompress. */
async function docsRerunRows(offload, c) {
  if (mode === 'smoke') {
    c.notes.push('Python docs rows: not in --smoke (a thousand-file first run per tool takes minutes); run `npm run bench -- --quick --only sync`.');
    return;
  }
  const src = copyPythonDocs();
  if (!src) {
    c.notes.push('Python docs rows: n/a, /usr/share/doc/python3/html is missing (apt-get install python3-doc).');
    return;
  }
  const files = readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  /** @type {Record<string, number[]>} */ const times = {};
  for (let round = 1; round <= PARAMS.syncRounds; round++) {
    for (const [i, tool] of DOCS_TOOLS.entries()) {
      const r = await timeRerun(tool, offload, src, `docs-${i}-${round}`, PARAMS.syncTimeoutS * 1000, files);
      log(`  docs round ${round} ${tool.name}: first ${fmt(r.first, 2)} s, re-run ${fmt(r.rerun, 2)} s${r.error ? ` ERROR ${r.error}` : ''}`);
      if (r.error) {
        c.notes.push(`Python docs, ${tool.name}: ${r.error}`);
        if (tool.name.startsWith('offload')) ctx.fail(`Python docs ${tool.name}: ${r.error}`);
      } else (times[tool.name] ??= []).push(r.rerun);
    }
  }
  const rerun = (name) => (times[name] ? median(times[name]) : NaN);
  const peers = { 'rclone sync': rerun('rclone sync'), 'aws s3 sync': rerun('aws s3 sync') };
  // The Offload column is offload sync itself, then with --precompress: the ratio columns set each against rclone's and the AWS CLI's re-run.
  c.rows.push({ metric: `Python docs (${files} files) no-change re-run, s`, values: { 'offload sync': rerun('offload sync'), ...peers }, better: 'lower' });
  c.rows.push({ metric: 'Python docs no-change re-run, offload sync --precompress, s', values: { 'offload sync': rerun('offload sync --precompress'), ...peers }, better: 'lower' });
  c.notes.push(`Python docs rows: the Debian python3-doc HTML tree (${files} files, symlinks resolved) synced once into a fresh bucket per tool, then the timed no-change re-run; s3cmd is left out of these rows.`);
}

async function main() {
  log(`offload bench, mode ${mode}, report -> ${outFile}`);
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  if (!existsSync(WRK)) problems.push('wrk: not installed, GET cases are n/a');
  const env = await environment();
  const offload = await startOffload({ workers });
  onCleanup(() => offload.stop());
  sampler.watch(offload.pid);
  log(`Offload at ${offload.url} (pid ${offload.pid})`);
  if (only === 'sync') return finish(env, offload, [await syncCase(offload)]);
  if (only === 'origin') return finish(env, offload, [await originCase(ctx, { mode })]);
  if (only === 'cluster') return finish(env, offload, [await clusterCase(ctx, { mode })]);
  if (only === 'sse') return finish(env, offload, await sseCases(ctx));
  const nginxRoot = tempDir('offload-bench-www-');
  const nginx = await optionalPeer('nginx', () => startNginx(nginxRoot));
  const s3rver = mode === 'tail' ? null : await optionalPeer('s3rver', () => startS3rver(['bench', 'put', 'list']));
  log(`peers: nginx ${nginx?.url ?? 'n/a'}, s3rver ${s3rver?.url ?? 'n/a'}`);

  const bucket = 'bench';
  const big = { key: 'big.bin', body: randomBytes(PARAMS.bigGet), label: `${PARAMS.bigGet / MiB} MiB`, conns: 8, size: PARAMS.bigGet };
  const small = { key: 'small.bin', body: randomBytes(10 * 1024) };
  const mid = { key: 'mid.bin', body: randomBytes(MiB), label: '1 MiB', conns: 32, size: MiB };
  ctx.label('setup');
  const getServers = await seed([offload, nginx, s3rver].filter((s) => s !== null), nginxRoot, bucket, [small, mid, big]);
  /** Placeholder columns keep n/a peers visible in the tables. */
  const cols = (names) => names.map((n) => getServers.find((s) => s.name === n) ?? { name: n, skip: true });
  const live = (list) => list.filter((s) => !s.skip);

  const cases = [];
  const withCols = async (names, fn) => {
    const servers = cols(names);
    const c = await fn(live(servers));
    c.columns = names;
    cases.push(c);
  };
  await offload.client.send(new CreateBucketCommand({ Bucket: 'put' }));
  if (existsSync(WRK)) {
    // nginx runs two worker processes: the like-for-like Offload is --workers 2, measured beside the default.
    // and one-process Offload is set beside a one-worker nginx.
    const twin = workers === 2 ? null : await optionalPeer(TWIN, () => startOffload({ workers: 2, name: TWIN }));
    if (twin) await twin.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const nginx1 = nginx && (await optionalPeer(NGINX1, () => startNginx(nginxRoot, { workers: 1, name: NGINX1 })));
    const extra = [twin, nginx1].filter((s) => s !== null);
    getServers.push(...(await seed(extra, nginxRoot, bucket, [small])));
    await withCols(['Offload', ...(twin ? [TWIN] : []), 'nginx', ...(nginx1 ? [NGINX1] : [])], (s) => tailAt256(ctx, s, { bucket, key: small.key }));
    for (const s of extra) {
      await s.stop();
      getServers.splice(getServers.indexOf(s), 1);
    }
    cases.push(await mixedLoad(ctx, offload, { bucket, smallKey: small.key, midKey: mid.key, putBucket: 'put', scratch: tempDir('offload-bench-mixed-'), sampler }));
  }
  if (mode === 'tail') return finish(env, offload, cases);
  if (existsSync(WRK)) {
    await withCols(['Offload', 'nginx', 's3rver'], (s) => smallGet(ctx, s, { bucket, key: small.key, conns: [32, 256] }));
    await withCols(['Offload', 'nginx', 's3rver'], (s) => largeGet(ctx, s, { bucket, objects: [mid, big] }));
    await withCols(['Offload', 'nginx', 's3rver'], (s) => rangeGet(ctx, s, { bucket, key: big.key }));
    if (nginx) cases.push(await originCase(ctx, { mode }));
    cases.push(...(await sseCases(ctx)));
  }
  const sdkServers = [offload, s3rver].filter((s) => s !== null);
  await offload.client.send(new CreateBucketCommand({ Bucket: 'list' }));
  const prepared = { full: [3000, 48], quick: [1000, 24], smoke: [50, 4] }[mode];
  const sizes = [{ label: '10 KiB', bytes: 10 * 1024, factor: 10, prepared: prepared[0] }, { label: '1 MiB', bytes: MiB, factor: 5, prepared: prepared[1] }];
  await withCols(['Offload', 's3rver'], () => signedPut(ctx, sdkServers, { bucket: 'put', concurrency: 32, sizes, scratch: tempDir('offload-bench-replay-') }));
  const counts = { Offload: PARAMS.listCount, s3rver: PARAMS.s3rverList };
  await withCols(['Offload', 's3rver'], async () => {
    const c = await listPages(ctx, sdkServers, { bucket: 'list', counts, budgetS: PARAMS.fillBudgetS });
    if (counts.s3rver !== counts.Offload) c.notes.push(`s3rver gets ${counts.s3rver.toLocaleString('en-US')} keys instead of ${counts.Offload.toLocaleString('en-US')}: it walks the whole bucket for every page, so its per-page time grows with the key count and paging through 100,000 keys would take minutes per round. Its per-page time at the smaller count flatters it.`);
    return c;
  });
  cases.push(await syncCase(offload));
  cases.push(await clusterCase(ctx, { mode }));
  finish(env, offload, cases);
}

/** Case 7 (RSS), the server's log, and the report. */
function finish(env, offload, cases) {
  const rss = sampler.peak();
  const perCase = Object.fromEntries(Object.entries(rss.byLabel).map(([k, v]) => [k, v / MiB]));
  cases.push({
    id: 7,
    title: 'Offload server RSS (primary + workers, sampled every 200 ms through all cases)',
    columns: ['Offload'],
    rows: [{ metric: `peak RSS, MiB (during "${rss.peakLabel}")`, values: { Offload: rss.peak / MiB }, better: 'lower', target: { text: '< 200 MB', met: rss.peak > 0 ? rss.peak < 200e6 : null } }],
    notes: [
      `Peak by phase (MiB): ${Object.entries(perCase).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}.`,
      `Peak per process (MiB, not simultaneous): ${[...rss.byPid].map(([pid, v]) => `${pid === rss.primary ? 'primary' : 'worker'} ${pid}: ${(v / MiB).toFixed(0)}`).join(', ')} (${rss.samples} samples).`,
    ],
  });
  sampler.stop();
  if (offload.child.exitCode !== null || offload.child.exited) ctx.fail(`the server process exited during the run: ${offload.child.log?.slice(-500)}`);
  const serverLog = String(offload.child.log ?? '').split('\n').filter((l) => l && !/listening on|^Root access key|^Region: /.test(l));
  if (serverLog.length) {
    const logFile = join(ROOT, `bench/out/offload-server.${mode}.log`);
    mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
    writeFileSync(logFile, serverLog.join('\n'));
    const errs = serverLog.filter((l) => /^\S*(Error|error)|code: '|SQLITE|EMFILE|ECONN/.test(l.trim()));
    problems.push(`Offload server printed ${serverLog.length} lines during the run (${errs.length} look like errors; kept in bench/out/offload-server.${mode}.log, not committed). Distinct ones: ${[...new Set(serverLog.map((l) => l.trim().replace(/\d+/g, 'N')))].slice(0, 8).join(' | ').slice(0, 1200)}`);
  }
  problems.push(`Load average (1/5/15 min) at the start: ${loadStart}; at the end: ${loadavg()}. Other processes on the machine share its 2 cores, which adds noise.`);

  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  cases.sort((a, b) => a.id - b.id);
  writeReport(outFile, { env, command, mode, date: new Date().toISOString(), seconds: (Date.now() - t0) / 1000, params: { ...PARAMS, workers: workers ?? 'default (1)' }, cases, problems });
  log(`report written to ${outFile}`);
}

try {
  await main();
} catch (err) {
  offloadFailed = true;
  console.error('bench: failed:', /** @type {Error} */ (err).stack ?? err);
} finally {
  sampler.stop();
  await cleanupAll();
}
if (problems.length) console.error(`bench: problems:\n  ${problems.join('\n  ')}`);
process.exit(interrupted ? 130 : offloadFailed ? 1 : 0);
