// @ts-check
/**
 * Case 6: syncing a folder to a fresh Offload bucket with offload sync, rclone, aws s3 sync and s3cmd,
 * and the no-change re-run of a real site tree (the Python HTML docs, Debian python3-doc).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { run, tempDir } from './util.js';
import { ROOT } from './peers.js';

const EXTS = ['jpg', 'png', 'webp', 'svg', 'css', 'js', 'html', 'json', 'txt', 'woff2', 'mp4', 'pdf'];

/** Deterministic-size pseudo-random folder: `files` small files (1-20 KiB) in subfolders plus one big file. */
export function makeSyncTree(files, bigBytes) {
  const dir = tempDir('offload-bench-sync-src-');
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${i % 50}`, `e${Math.floor(i / 50) % 10}`);
    if (!existsSync(sub)) mkdirSync(sub, { recursive: true });
    const size = 1024 + Math.floor(rnd() * 19 * 1024);
    writeFileSync(join(sub, `f${i}.${EXTS[i % EXTS.length]}`), randomBytes(size));
  }
  const fd = openSync(join(dir, 'big.mp4'), 'w');
  const chunk = randomBytes(1 << 20);
  for (let off = 0; off < bigBytes; off += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bigBytes - off));
  closeSync(fd);
  return dir;
}

/** offload sync with its defaults plus `extra` (e.g. --precompress). */
function offloadSync(name, extra) {
  return {
    name,
    bin: join(ROOT, 'bin/offload.js'),
    prepare: (s, work) => ({
      cmd: process.execPath,
      args: (src, bucket) => [join(ROOT, 'bin/offload.js'), 'sync', src, `s3://${bucket}`, '--endpoint', s.url, '--quiet', '--no-progress', '--state', join(work, `${bucket}.state`), ...extra],
      env: cleanEnv({ AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey, AWS_REGION: 'us-east-1', HOME: work }),
    }),
  };
}

/** Environment without anything that could point a client at another endpoint or CA. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(AWS_|RCLONE_)/.test(k)) delete env[k];
  return { ...env, ...extra };
}

/**
 * The sync tools. Each `prepare(endpoint, keys)` returns { available, argv(src, bucket) , env } or a reason.
 * @type {Array<{ name: string, bin: string, prepare: (server: { url: string, accessKeyId: string, secretAccessKey: string }, work: string) => { cmd: string, args: (src: string, bucket: string) => string[], env: NodeJS.ProcessEnv } }>}
 */
export const SYNC_TOOLS = [
  offloadSync('offload sync', []),
  {
    name: 'rclone sync',
    bin: '/usr/bin/rclone',
    prepare: (s, work) => {
      const conf = join(work, 'rclone.conf');
      writeFileSync(conf, '');
      return {
        cmd: '/usr/bin/rclone',
        args: (src, bucket) => ['sync', src, `bench:${bucket}`, '-q'],
        env: cleanEnv({
          RCLONE_CONFIG: conf,
          RCLONE_CONFIG_BENCH_TYPE: 's3',
          RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
          RCLONE_CONFIG_BENCH_ENV_AUTH: 'false',
          RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: s.accessKeyId,
          RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: s.secretAccessKey,
          RCLONE_CONFIG_BENCH_ENDPOINT: s.url,
          RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
          RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
          HOME: work,
        }),
      };
    },
  },
  {
    name: 'aws s3 sync',
    bin: '/usr/bin/aws',
    prepare: (s, work) => ({
      cmd: '/usr/bin/aws',
      args: (src, bucket) => ['s3', 'sync', src, `s3://${bucket}`, '--endpoint-url', s.url, '--only-show-errors', '--no-progress'],
      env: cleanEnv({
        AWS_ACCESS_KEY_ID: s.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: join(work, 'aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-credentials'),
        AWS_PAGER: '',
        HOME: work,
      }),
    }),
  },
  {
    name: 's3cmd sync',
    bin: '/usr/bin/s3cmd',
    prepare: (s, work) => {
      const host = s.url.replace(/^http:\/\//, '');
      const cfg = join(work, 's3cfg');
      writeFileSync(cfg, `[default]\naccess_key = ${s.accessKeyId}\nsecret_key = ${s.secretAccessKey}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nbucket_location = us-east-1\nsignature_v2 = False\nprogress_meter = False\n`);
      return {
        cmd: '/usr/bin/s3cmd',
        args: (src, bucket) => ['-c', cfg, 'sync', '--no-progress', '-q', `${src}/`, `s3://${bucket}/`],
        env: cleanEnv({ HOME: work }),
      };
    },
  },
];

/**
 * First run and no-change re-run of one tool into a fresh bucket. Returns seconds or an error text.
 * @param {typeof SYNC_TOOLS[number]} tool
 */
export async function timeSync(tool, server, src, bucket, timeoutMs, expected) {
  if (!existsSync(tool.bin)) return { first: NaN, rerun: NaN, error: 'not available (binary missing)' };
  const work = tempDir('offload-bench-sync-work-');
  await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const p = tool.prepare(server, work);
  const out = {};
  for (const phase of ['first', 'rerun']) {
    const r = await run(p.cmd, p.args(src, bucket), { env: p.env, timeoutMs });
    if (r.code !== 0) {
      return { first: out.first ?? NaN, rerun: NaN, error: `not available: ${phase} run exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` };
    }
    out[phase] = r.ms / 1000;
    const n = await countKeys(server.client, bucket);
    if (n !== expected) return { first: NaN, rerun: NaN, error: `after the ${phase} run the bucket holds ${n} objects, expected ${expected}` };
  }
  return { first: out.first, rerun: out.rerun };
}

async function countKeys(client, bucket) {
  let n = 0;
  /** @type {string | undefined} */ let token;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    n += r.KeyCount ?? 0;
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return n;
}

export const PYTHON_DOCS = '/usr/share/doc/python3/html';
/** The tools timed on the Python docs: offload sync (without and with --precompress), rclone, the AWS CLI. */
export const DOCS_TOOLS = [SYNC_TOOLS[0], offloadSync('offload sync --precompress', ['--precompress']), SYNC_TOOLS[1], SYNC_TOOLS[2]];

/** A copy of the Python docs with Debian's symlinks (jquery.js, underscore.js) resolved, or null if not installed. */
export function copyPythonDocs() {
  if (!existsSync(PYTHON_DOCS)) return null;
  const dir = join(tempDir('offload-bench-docs-'), 'html');
  execFileSync('cp', ['-rL', PYTHON_DOCS, dir]);
  return dir;
}

/**
 * Like timeSync, for a tree whose object count depends on the tool (--precompress adds .br/.gz
 * siblings): the re-run must leave the bucket as the first run did, and plain tools store `files`.
 * @param {typeof SYNC_TOOLS[number]} tool
 */
export async function timeRerun(tool, server, src, bucket, timeoutMs, files) {
  if (!existsSync(tool.bin)) return { first: NaN, rerun: NaN, error: 'not available (binary missing)' };
  const work = tempDir('offload-bench-sync-work-');
  await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const p = tool.prepare(server, work);
  const out = {};
  let after;
  for (const phase of ['first', 'rerun']) {
    const r = await run(p.cmd, p.args(src, bucket), { env: p.env, timeoutMs });
    if (r.code !== 0) return { first: NaN, rerun: NaN, error: `${phase} run exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` };
    out[phase] = r.ms / 1000;
    const n = await countKeys(server.client, bucket);
    const want = phase === 'rerun' ? after : tool.name.includes('--precompress') ? undefined : files;
    if (want !== undefined && n !== want) return { first: NaN, rerun: NaN, error: `after the ${phase} run the bucket holds ${n} objects, expected ${want}` };
    after = n;
  }
  return { first: out.first, rerun: out.rerun };
}
