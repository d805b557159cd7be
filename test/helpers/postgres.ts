/**
 * A throw-away PostgreSQL cluster for tests: Debian's `postgresql` package (the binaries under
 * /usr/lib/postgresql/<major>/bin), initdb'd in a temp folder, listening on a free loopback port
 * only, with its socket in that folder. As root the server runs as the `postgres` user (PostgreSQL
 * refuses to run as root), via runuser, and the folder is handed to that user; as anyone else it
 * runs as the current user. Trust authentication on 127.0.0.1 only: nothing else can reach it.
 *
 * @example
 *   const pg = await startPostgres();
 *   const url = await pg.createDatabase('t1');   // postgres://offload@127.0.0.1:PORT/t1
 *   ...
 *   await pg.stop();
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://offload@127.0.0.1:PORT/offload */
  url: string;
  port: number;
  dir: string;
  /** A new empty database on this cluster; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: open connections are cut) without removing its data. */
  halt(): void;
  /** Starts it again on the same port and data after halt(). */
  resume(): void;
  /** halt(), wait downMs, resume(): what a PostgreSQL restart looks like to its clients. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** The bin folder of the newest installed PostgreSQL, or undefined when the package is missing. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresOptions {
  /**
   * fsync and synchronous commit as in production (default false: tests are about metadata
   * logic, not about surviving a power cut of the database host, and fsync per commit on a
   * shared 2-core machine makes the suite slow). The benchmark passes true.
   */
  durable?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const asRoot = process.getuid?.() === 0;
  const osUser = asRoot ? 'postgres' : userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'offload-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const run = (program: string, args: string[]): void => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', osUser, '--', join(bin, program), ...args]] : [join(bin, program), args];
    // cwd /: the postgres user may not be allowed into the caller's working folder.
    const result = spawnSync(cmd, argv, { cwd: '/', encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${program} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  if (asRoot) chownSync(dir, uid(osUser), gid(osUser));
  run('initdb', ['-D', data, '-U', 'offload', '-E', 'UTF8', '--locale=C.UTF-8', '--auth=trust', '--no-instructions']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    writeFileSync(join(data, 'postgresql.auto.conf'), settings(port, dir, options.durable === true));
    if (asRoot) chownSync(join(data, 'postgresql.auto.conf'), uid(osUser), gid(osUser));
    try {
      run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
      break;
    } catch (err) {
      // Another process took the port between our probe and the server's bind: try another.
      if (attempt >= 3) throw err;
    }
  }
  const url = `postgres://offload@127.0.0.1:${port}/`;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: `${url}postgres` });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  await admin((c) => c.query('CREATE DATABASE offload'));
  let running = true;
  const halt = () => {
    if (!running) return;
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  const resume = () => {
    if (running) return;
    run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
    running = true;
  };
  let stopped = false;
  return {
    url: `${url}offload`,
    port,
    dir,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return `${url}${name}`;
    },
    halt,
    resume,
    async restart(downMs = 0) {
      halt();
      await new Promise((r) => setTimeout(r, downMs));
      resume();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        halt();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function settings(port: number, dir: string, durable: boolean): string {
  return [
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    `fsync = ${durable ? 'on' : 'off'}`,
    `synchronous_commit = ${durable ? 'on' : 'off'}`,
    `full_page_writes = ${durable ? 'on' : 'off'}`,
    'max_connections = 200',
    'shared_buffers = 32MB',
    "shared_preload_libraries = 'pg_stat_statements'",
    'logging_collector = off',
    '',
  ].join('\n');
}

function idOf(flag: '-u' | '-g', user: string): number {
  const out = spawnSync('id', [flag, user], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`no OS user ${user} (the postgresql package creates it)`);
  return Number(out.stdout.trim());
}
const uid = (user: string) => idOf('-u', user);
const gid = (user: string) => idOf('-g', user);
