/**
 * Test harness for the upload CLI: S3 implementations to run scenarios against (s3rver in-process,
 * the real `offload serve`), the built CLI run as a child process, and a tree of awkward names.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { CLI, startServer } from '../helpers/server.js';

export interface S3Impl {
  name: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Whether the server enforces ACLs / policies for anonymous requests. */
  enforcesAccess: boolean;
  /** Whether multipart objects get S3-style "md5-N" ETags. */
  multipartEtags: boolean;
  /** The website endpoint's port, when the server was started with one. */
  websitePort?: number;
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

export async function startS3rver(): Promise<S3Impl> {
  const mod = (await import('s3rver')) as unknown as { default: S3rverCtor };
  const dir = mkdtempSync(join(tmpdir(), 'offload-s3rver-'));
  const server = new mod.default({ address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false });
  const address = await server.run();
  return {
    name: 's3rver',
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    enforcesAccess: false,
    multipartEtags: false,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startOffload(args: string[] = []): Promise<S3Impl> {
  const server = await startServer({ args });
  return {
    name: 'offload serve',
    endpoint: server.endpoint,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    enforcesAccess: true,
    multipartEtags: true,
    websitePort: server.websitePort,
    stop: () => server.stop(),
  };
}

export const IMPLEMENTATIONS: { name: string; start: () => Promise<S3Impl> }[] = [
  { name: 's3rver', start: startS3rver },
  { name: 'offload serve', start: startOffload },
];

export function builtCliExists(): boolean {
  return existsSync(resolve(CLI, '../../dist/cli/main.js'));
}

export function client(impl: S3Impl): S3Client {
  return new S3Client({
    endpoint: impl.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: impl.accessKeyId, secretAccessKey: impl.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed --json lines of stdout. */
  json: Record<string, unknown>[];
}

/** Runs `node bin/offload.js ARGS` against impl, with a private cache folder for state files. */
export function runCli(impl: S3Impl | undefined, args: string[], opts: { cwd?: string; input?: string; cacheDir?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: impl?.accessKeyId ?? 'none',
    AWS_SECRET_ACCESS_KEY: impl?.secretAccessKey ?? 'none',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    XDG_CACHE_HOME: opts.cacheDir ?? join(tmpdir(), 'offload-cli-test-cache'),
    ...(impl ? { AWS_ENDPOINT_URL: impl.endpoint } : {}),
    ...opts.env,
  };
  delete env.AWS_PROFILE;
  delete env.OFFLOAD_DEBUG;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const json = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolvePromise({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface TreeFile {
  /** Path on disk relative to the root (may be NFD). */
  path: string;
  /** Expected object key (NFC). */
  key: string;
  data: Buffer;
  contentType: string;
}

/** A media folder with every awkward kind of name, an extension-less README, a 0-byte and a large file. */
export function makeTree(root: string, bigSize: number): TreeFile[] {
  const text = (s: string) => Buffer.from(s, 'utf8');
  const files: [string, Buffer, string][] = [
    ['css/app.3f2a9c1b.css', text('body{color:red}\n'), 'text/css; charset=utf-8'],
    ['js/main.js', text('console.log("hi");\n'), 'text/javascript; charset=utf-8'],
    ['js/mod.mjs', text('export const a = 1;\n'), 'text/javascript; charset=utf-8'],
    ['img/logo.svg', text('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml; charset=utf-8'],
    ['img/photo.webp', randomBytes(3000), 'image/webp'],
    ['img/pic.avif', randomBytes(1000), 'image/avif'],
    ['fonts/inter.woff2', randomBytes(2000), 'font/woff2'],
    ['app.wasm', randomBytes(500), 'application/wasm'],
    ['site.webmanifest', text('{"name":"x"}'), 'application/manifest+json; charset=utf-8'],
    ['docs/guide.pdf', Buffer.concat([text('%PDF-1.4\n'), randomBytes(1000)]), 'application/pdf'],
    ['README', text('Read me. Déjà vu — ünïcödé text.\n'), 'text/plain; charset=utf-8'],
    ['LICENSE', text('MIT License\n'), 'text/plain; charset=utf-8'],
    ['TODO', Buffer.from([0x00, 0x01, 0x02, 0xff, 0x10]), 'application/octet-stream'],
    ['empty.txt', Buffer.alloc(0), 'text/plain; charset=utf-8'],
    ['dir with space/file name.txt', text('spaces'), 'text/plain; charset=utf-8'],
    ['plus+sign.txt', text('plus'), 'text/plain; charset=utf-8'],
    ['100%.txt', text('percent'), 'text/plain; charset=utf-8'],
    ['hash#tag.txt', text('hash'), 'text/plain; charset=utf-8'],
    ['a&b;c.txt', text('amp semi'), 'text/plain; charset=utf-8'],
    ['日本語/ファイル.txt', text('japanese'), 'text/plain; charset=utf-8'],
    ['ελληνικά.txt', text('greek'), 'text/plain; charset=utf-8'],
    ['nested/deep/er/data.json', text('{"a":1}'), 'application/json; charset=utf-8'],
    ['big.bin', randomBytes(bigSize), 'application/octet-stream'],
  ];
  const out: TreeFile[] = files.map(([path, data, contentType]) => ({ path, key: path, data, contentType }));
  // A macOS-style decomposed name: its key must be the composed (NFC) form.
  out.push({ path: 'cafe\u0301.txt', key: 'caf\u00e9.txt', data: text('nfd'), contentType: 'text/plain; charset=utf-8' });
  for (const f of out) {
    const full = join(root, f.path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, f.data);
  }
  return out;
}

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `offload-cli-${label}-`));
}

/** Object URL for anonymous GETs (path-style, key segments encoded). */
export function objectUrl(impl: S3Impl, bucket: string, key: string): string {
  return `${impl.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
