// @ts-check
/** Load generators: wrk (GET) with its output parsed, and SDK loops (PUT for a fixed time, fill, list paging). */
import { PutObjectCommand, ListObjectsV2Command, ListObjectsCommand } from '@aws-sdk/client-s3';
import { run, median } from './util.js';

export const WRK = '/usr/bin/wrk';

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "1.23ms" -> 1.23 (milliseconds). */
export function parseDuration(s) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s.trim());
  return m ? Number(m[1]) * TIME_UNITS[m[2]] : NaN;
}

/** "1.23GB" -> bytes (wrk uses binary units). */
export function parseSize(s) {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(s.trim());
  return m ? Number(m[1]) * SIZE_UNITS[m[2]] : NaN;
}

/** Parses `wrk --latency` output. */
export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? parseDuration(m[1]) : NaN;
  };
  const transfer = /Transfer\/sec:\s+(\S+)/.exec(out);
  const total = /(\d+) requests in ([\d.]+\w+), (\S+) read/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct(50),
    p99: pct(99),
    transferPerSec: transfer ? parseSize(transfer[1]) : NaN,
    requests: total ? Number(total[1]) : NaN,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/**
 * One wrk run. Returns the parsed result plus `error` when wrk failed or saw errors.
 * @param {string} url @param {{ connections: number, seconds: number, headers?: string[], threads?: number, script?: string, scriptArgs?: string[], env?: NodeJS.ProcessEnv }} o
 */
export async function wrk(url, o) {
  const threads = Math.min(o.threads ?? 2, o.connections);
  const args = [`-t${threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '--latency'];
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.script) args.push('-s', o.script);
  args.push(url);
  if (o.scriptArgs) args.push('--', ...o.scriptArgs);
  const r = await run(WRK, args, { timeoutMs: (o.seconds + 30) * 1000, env: o.env ? { ...process.env, ...o.env } : undefined });
  const parsed = parseWrk(r.stdout);
  let error;
  if (r.code !== 0) error = `wrk exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
  else if (!Number.isFinite(parsed.rps)) error = `unparsable wrk output: ${r.stdout.slice(0, 200)}`;
  else if (parsed.non2xx) error = `${parsed.non2xx} non-2xx of ${parsed.requests}`;
  else if (parsed.socketErrors) error = `${parsed.socketErrors} socket errors`;
  return { ...parsed, error, raw: r.stdout };
}

/** Medians of several wrk results (errors are kept, joined). */
export function medianWrk(results) {
  const errors = results.map((r) => r.error).filter(Boolean);
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    transferPerSec: median(results.map((r) => r.transferPerSec)),
    error: errors.length ? errors.join('; ') : undefined,
  };
}

/**
 * Runs `fn(i)` for i in [0, count) with at most `concurrency` in flight. Errors are counted.
 * @param {number} count @param {number} concurrency @param {(i: number) => Promise<unknown>} fn
 */
export async function pool(count, concurrency, fn, deadline = Infinity) {
  let next = 0;
  let errors = 0;
  let done = 0;
  /** @type {unknown} */ let firstError;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        await fn(i);
        done++;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { errors, firstError, done };
}

/**
 * Signed PUTs of `body` at fixed concurrency for `seconds`. Returns ops/s, MB/s (10^6) and errors.
 * @param {import('@aws-sdk/client-s3').S3Client} client @param {string} bucket @param {Buffer} body
 * @param {{ concurrency: number, seconds: number, prefix: string }} o
 */
export async function putLoop(client, bucket, body, o) {
  const deadline = performance.now() + o.seconds * 1000;
  let ops = 0;
  let errors = 0;
  /** @type {string | undefined} */ let firstError;
  const t0 = performance.now();
  const worker = async (w) => {
    for (let n = 0; performance.now() < deadline; n++) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${o.prefix}/${w}/${n}`, Body: body, ContentType: 'application/octet-stream' }));
        ops++;
      } catch (err) {
        errors++;
        firstError ??= `${/** @type {Error} */ (err).name}: ${/** @type {Error} */ (err).message}`.slice(0, 200);
        if (errors > 1000) return;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  const secs = (performance.now() - t0) / 1000;
  return { opsPerSec: ops / secs, mbPerSec: (ops * body.length) / secs / 1e6, ops, errors, error: errors ? `${errors} failed PUTs (${firstError})` : undefined };
}

export const listKey = (i) => `k/${String(i).padStart(7, '0')}`;

/**
 * Fills `bucket` with up to `count` tiny objects at `concurrency`, stopping early after `budgetS`
 * seconds; returns how many were stored, seconds and objects/s.
 */
export async function fillBucket(client, bucket, count, concurrency = 64, budgetS = Infinity) {
  const body = Buffer.from('x');
  const t0 = performance.now();
  const r = await pool(count, concurrency, (i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: listKey(i), Body: body })), t0 + budgetS * 1000);
  const secs = (performance.now() - t0) / 1000;
  if (r.errors) throw new Error(`fill of ${bucket}: ${r.errors} PUTs failed (${/** @type {Error} */ (r.firstError)?.message})`);
  return { stored: r.done, seconds: secs, perSec: r.done / secs };
}

/**
 * Pages through the bucket 1000 keys at a time; returns per-page ms, the median and the key count.
 * With `v1`, uses ListObjects (V1) with Marker paging: s3rver 3 on Node 20 fails every truncated
 * ListObjectsV2 (its continuation token is DES-encrypted, which OpenSSL 3 refuses).
 */
export async function pageThrough(client, bucket, v1 = false) {
  const pages = [];
  let keys = 0;
  /** @type {string | undefined} */ let token;
  for (;;) {
    const t0 = performance.now();
    const r = v1
      ? await client.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 1000, Marker: token }))
      : await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000, ContinuationToken: token }));
    pages.push(performance.now() - t0);
    keys += r.Contents?.length ?? 0;
    if (!r.IsTruncated) break;
    token = 'NextContinuationToken' in r ? r.NextContinuationToken : r.Contents?.at(-1)?.Key;
    if (!token) throw new Error('truncated page without a continuation');
  }
  return { pages, medianMs: median(pages), keys };
}
