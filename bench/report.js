// @ts-check
/** Environment description and the BENCHMARKS.md writer. */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { run, fmt } from './util.js';
import { ROOT } from './peers.js';

/**
 * @typedef {{ metric: string, values: Record<string, number>, better?: 'higher' | 'lower', target?: { text: string, met: boolean | null }, digits?: number }} Row
 * @typedef {{ id: number, title: string, columns: string[], rows: Row[], notes: string[], markdown?: string[] }} CaseResult
 * (markdown: a case's own tables, written instead of the generic one; its rows still feed the Targets table)
 */

/** CPU, cores, RAM, tool versions, git commit. */
export async function environment() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  let ramKb = Math.round(totalmem() / 1024);
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
    ramKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? ramKb);
  } catch { /* not Linux */ }
  const first = async (cmd, args) => {
    const r = await run(cmd, args, { timeoutMs: 20000 });
    const line = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l && !/^Usage/.test(l));
    return r.code === -1 || !line || /ENOENT/.test(line) ? 'not installed' : line;
  };
  const pkg = (p) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, p), 'utf8')).version;
    } catch {
      return 'not installed';
    }
  };
  const commit = await run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = await run('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', 'src']);
  return {
    cpu,
    cores: cpus().length,
    ramGiB: ramKb / 1024 / 1024,
    kernel: readSafe('/proc/sys/kernel/osrelease'),
    versions: {
      node: process.version,
      nginx: await first('/usr/sbin/nginx', ['-v']),
      wrk: await first('/usr/bin/wrk', ['-v']),
      rclone: await first('/usr/bin/rclone', ['version']),
      aws: await first('/usr/bin/aws', ['--version']),
      s3cmd: await first('/usr/bin/s3cmd', ['--version']),
      s3rver: pkg('node_modules/s3rver/package.json'),
      '@aws-sdk/client-s3': pkg('node_modules/@aws-sdk/client-s3/package.json'),
      offload: `${pkg('package.json')} (git ${commit.stdout.trim() || '?'}${dirty.stdout.trim() ? ', with uncommitted changes in src/' : ''})`,
    },
  };
}

function readSafe(p) {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

const status = (met) => (met === true ? '**met**' : met === false ? '**not met**' : 'n/a');

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

/** @param {CaseResult} c */
function caseTable(c) {
  const [self, ...peers] = c.columns;
  const head = ['Metric', ...c.columns, ...peers.map((p) => `${self}/${p}`), 'Target', 'Status'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of c.rows) {
    const cells = [r.metric + (r.better === 'lower' ? ' (lower is better)' : '')];
    for (const col of c.columns) cells.push(fmt(r.values[col], r.digits ?? 2));
    for (const p of peers) cells.push(ratio(r.values[self], r.values[p]));
    cells.push(r.target?.text ?? '');
    cells.push(r.target ? status(r.target.met) : '');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Writes the Markdown report.
 * @param {string} file @param {{ env: Awaited<ReturnType<typeof environment>>, command: string, mode: string, date: string, seconds: number, params: Record<string, unknown>, cases: CaseResult[], problems: string[] }} r
 */
export function writeReport(file, r) {
  const out = [];
  out.push('# Offload benchmarks', '');
  out.push(`Produced by \`${r.command}\` (mode: ${r.mode}) on ${r.date}, in ${Math.round(r.seconds)} s.`, '');
  out.push('Every server runs on this one machine and binds 127.0.0.1; the load generators (wrk, the SDK loops in the harness process, the sync tools) share its cores with the server under test, so absolute numbers are machine-bound and the ratios are the point. Servers run in alternation within each case; each figure is the median over the rounds.', '');
  out.push('## Machine', '');
  out.push(`- CPU: ${r.env.cpu}, ${r.env.cores} cores`);
  out.push(`- RAM: ${r.env.ramGiB.toFixed(1)} GiB`);
  out.push(`- Kernel: Linux ${r.env.kernel}`);
  out.push('', '## Versions', '');
  for (const [k, v] of Object.entries(r.env.versions)) out.push(`- ${k}: ${v}`);
  out.push('', '## Parameters', '');
  for (const [k, v] of Object.entries(r.params)) out.push(`- ${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  out.push('', '## Targets', '');
  out.push('| Case | Target | Result | Status |', '|---|---|---|---|');
  for (const c of r.cases) {
    for (const row of c.rows) {
      if (!row.target) continue;
      out.push(`| ${c.id}. ${c.title} | ${row.target.text} | ${row.metric}: ${fmt(row.values[c.columns[0]] ?? Object.values(row.values)[0], row.digits ?? 2)} | ${status(row.target.met)} |`);
    }
  }
  for (const c of r.cases) {
    out.push('', `## ${c.id}. ${c.title}`, '', ...(c.markdown ? c.markdown : [caseTable(c)]));
    if (c.notes.length) out.push('', ...c.notes.map((n) => `- ${n}`));
  }
  if (r.problems.length) {
    out.push('', '## Run notes and problems', '', ...r.problems.map((p) => `- ${p}`));
  }
  out.push('');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, out.join('\n'));
}
