// @ts-check
/** Shared helpers of the benchmark harness: child processes, ports, temp dirs, stats, RSS sampling. */
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
/** @type {Set<string>} */
const tempDirs = new Set();
/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];

/** A fresh temp dir, removed at exit. */
export function tempDir(prefix = 'offload-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Registers something to run at cleanup (before children are killed). */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a long-running child (own process group, so the whole tree can be killed) and resolves
 * once `ready` matches its stdout/stderr. Rejects if it exits first or the timeout passes.
 * @param {string} cmd @param {string[]} args
 * With `probe` instead of `ready`, polls probe() every 50 ms until it resolves true.
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, ready?: RegExp, probe?: () => Promise<boolean>, timeoutMs?: number, name: string }} o
 */
export function startChild(cmd, args, o) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${o.name} not ready after ${o.timeoutMs ?? 20000} ms: ${out.slice(-500)}`)), o.timeoutMs ?? 20000);
    const fail = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      killChild(child);
      reject(err);
    };
    const onData = (buf) => {
      if (out.length < 100_000) out += buf.toString();
      child.log = out;
      if (!done && o.ready?.test(out)) ok();
    };
    const ok = () => {
      done = true;
      clearTimeout(timer);
      resolve(child);
    };
    if (o.probe) {
      const probe = o.probe;
      const poll = async () => {
        while (!done) {
          if (await probe().catch(() => false)) { if (!done) ok(); return; }
          await sleep(50);
        }
      };
      void poll();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', fail);
    child.on('exit', (code, sig) => {
      children.delete(child);
      child.exited = true;
      fail(new Error(`${o.name} exited (${code ?? sig}) before it was ready: ${out.slice(-800)}`));
    });
  });
}

/** SIGTERM the child's process group, SIGKILL after a grace period. */
export function killChild(child, graceMs = 3000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.exited) {
      children.delete(child);
      return resolve(undefined);
    }
    const timer = setTimeout(() => {
      try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      children.delete(child);
      // Also sweep anything left in the group.
      try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ }
      resolve(undefined);
    });
    try { process.kill(-(child.pid ?? 0), 'SIGTERM'); } catch { child.kill('SIGTERM'); }
  });
}

/**
 * Runs a command to completion. Never throws: resolves { code, stdout, stderr, ms }.
 * @param {string} cmd @param {string[]} args @param {{ env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number }} [o]
 */
export function run(cmd, args, o = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = execFile(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, maxBuffer: 64 << 20, timeout: o.timeoutMs ?? 0, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      children.delete(child);
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? String(err.message) : ''), ms: performance.now() - t0 });
    });
    children.add(child);
  });
}

/** Cleanup everything: registered callbacks, children, temp dirs. Idempotent. */
let cleaned = false;
export async function cleanupAll() {
  if (cleaned) return;
  cleaned = true;
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch (err) { console.error('bench: cleanup:', /** @type {Error} */ (err).message); }
  }
  await Promise.all([...children].map((c) => killChild(c, 2000)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** VmRSS in bytes of one pid, 0 if gone. */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Children pids of a pid, from /proc/<pid>/task/<tid>/children. */
function childPids(pid) {
  const out = [];
  const taskDir = `/proc/${pid}/task`;
  if (!existsSync(taskDir)) return out;
  for (const tid of readdirSync(taskDir)) {
    try {
      for (const c of readFileSync(`${taskDir}/${tid}/children`, 'utf8').split(/\s+/)) if (c) out.push(Number(c));
    } catch { /* raced */ }
  }
  return out;
}

/** VmRSS of every process of a tree, pid -> bytes. */
export function treeRss(pid) {
  /** @type {Map<number, number>} */ const out = new Map();
  const stack = [pid];
  while (stack.length) {
    const p = /** @type {number} */ (stack.pop());
    if (out.has(p)) continue;
    out.set(p, rssOf(p));
    stack.push(...childPids(p));
  }
  return out;
}

/** Samples the RSS of a process tree every `everyMs`; peak() gives the maximum of the sum, by label and by pid. */
export function rssSampler(everyMs = 200) {
  /** @type {number | undefined} */ let pid;
  let label = 'setup';
  let peak = 0;
  let peakLabel = '';
  let samples = 0;
  /** @type {Record<string, number>} */ const byLabel = {};
  /** @type {Map<number, number>} */ const byPid = new Map();
  const timer = setInterval(() => {
    if (!pid) return;
    const tree = treeRss(pid);
    let rss = 0;
    for (const [p, r] of tree) {
      rss += r;
      byPid.set(p, Math.max(byPid.get(p) ?? 0, r));
    }
    samples++;
    byLabel[label] = Math.max(byLabel[label] ?? 0, rss);
    if (rss > peak) { peak = rss; peakLabel = label; }
  }, everyMs);
  timer.unref();
  return {
    watch(p) { pid = p; },
    label(l) { label = l; },
    peak: () => ({ peak, peakLabel, byLabel, byPid, primary: pid, samples }),
    stop() { clearInterval(timer); },
  };
}

export function fmt(x, digits = 1) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(digits);
}
