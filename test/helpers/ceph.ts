/**
 * A throw-away single-node Ceph cluster for tests: one monitor, one OSD on memstore (data in
 * RAM), the RADOS Gateway serving S3 on a loopback port, and an S3 user with known keys;
 * everything (config, keyrings, daemon data, logs, pid files) in one temp folder. No manager:
 * the gateway works without one and start-up is about 4 s instead of 8. Start it once per test
 * file (beforeAll) and stop it in afterAll. Settings from ../shared/infra/ceph-up.sh (tested
 * here): pool size 1 for a single OSD, tcp_nodelay or small GETs stall 40 ms, 50 ms paxos.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mustRun, run } from './peers.js';

export interface CephGateway {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dir: string;
  stop(): Promise<void>;
}

const DAEMONS = ['client.rgw.gw', 'osd.0', 'mon.a'];
const ACCESS_KEY = 'OFFLOADTESTACCESSKEY';
const SECRET_KEY = 'offloadtestsecretkey0000000000000000000';

/** Whether the Debian packages are installed (ceph-mon, ceph-osd, radosgw). */
export function cephInstalled(): boolean {
  return ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph-authtool', 'monmaptool'].every((b) => existsSync(`/usr/bin/${b}`));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A block of `count` consecutive free ports (the OSD binds several from its range). */
async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const ok = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port range for ceph');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function until(what: string, dir: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`ceph: timed out waiting for ${what} (logs in ${dir}/log)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function config(dir: string, monPort: number, msMin: number, rgwPort: number, fsid: string): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort},v1:127.0.0.1:${monPort + 1}]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = ${msMin}
ms bind port max = ${msMin + 9}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/keyring
run dir = ${dir}/run
crash dir = ${dir}/crash
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
log to syslog = false
err to syslog = false
mon cluster log file = ${dir}/log/$cluster.$channel.log
mon cluster log to syslog = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
paxos propose interval = 0.05
paxos min wait = 0.01
[mon]
mon data = ${dir}/mon.$id
mon data avail warn = 1
mon data avail crit = 0
[osd]
osd data = ${dir}/osd.$id
keyring = ${dir}/osd.$id/keyring
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.gw]
keyring = ${dir}/rgw.gw/keyring
rgw data = ${dir}/rgw.gw
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
rgw thread pool size = 64
`;
}

export async function startCeph(): Promise<CephGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'offload-ceph-'));
  for (const sub of ['run', 'log', 'crash', 'mon.a', 'osd.0', 'rgw.gw']) mkdirSync(join(dir, sub));
  const conf = join(dir, 'ceph.conf');
  const rgwPort = await freePort();
  const monPort = await freeRange(2);
  const msMin = await freeRange(10);
  const fsid = randomUUID();
  writeFileSync(conf, config(dir, monPort, msMin, rgwPort, fsid));
  const env = { ...process.env, CEPH_CONF: conf };
  const ceph = (...args: string[]) => run('ceph', ['-c', conf, '--connect-timeout', '20', ...args], { env, timeoutMs: 60_000 });
  const gateway: CephGateway = {
    endpoint: `http://127.0.0.1:${rgwPort}`,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    region: 'us-east-1',
    dir,
    stop: () => stopCeph(dir),
  };
  try {
    const keyring = join(dir, 'keyring');
    await mustRun('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await mustRun('ceph-authtool', [keyring, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *']);
    await mustRun('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort},v1:127.0.0.1:${monPort + 1}]`, join(dir, 'monmap')]);
    await mustRun('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', keyring], { env });
    // The daemons fork into the background themselves and write run/<name>.pid.
    await mustRun('ceph-mon', ['-c', conf, '-i', 'a'], { env });
    await until('the monitor', dir, async () => (await ceph('mon', 'stat')).code === 0);
    const osdUuid = randomUUID();
    const osdKey = (await mustRun('ceph-authtool', ['--gen-print-key'])).stdout.trim();
    writeFileSync(join(dir, 'osd.0', 'new.json'), JSON.stringify({ cephx_secret: osdKey }));
    const osdId = await ceph('osd', 'new', osdUuid, '0', '-i', join(dir, 'osd.0', 'new.json'));
    if (osdId.stdout.trim() !== '0') throw new Error(`ceph osd new: ${osdId.stdout} ${osdId.stderr}`);
    writeFileSync(join(dir, 'osd.0', 'keyring'), `[osd.0]\n\tkey = ${osdKey}\n`);
    await mustRun('ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--key', osdKey, '--osd-uuid', osdUuid], { env });
    await mustRun('ceph-osd', ['-c', conf, '-i', '0'], { env });
    await until('osd.0', dir, async () => /^osd\.0 up /m.test((await ceph('osd', 'dump')).stdout));
    await mustRun('ceph', ['-c', conf, 'auth', 'get-or-create', 'client.rgw.gw', 'mon', 'allow rw', 'osd', 'allow rwx', 'mgr', 'allow rw', '-o', join(dir, 'rgw.gw', 'keyring')], { env });
    await mustRun('radosgw', ['-c', conf, '-n', 'client.rgw.gw'], { env });
    await until('radosgw', dir, async () => fetch(gateway.endpoint).then(() => true, () => false));
    await mustRun('radosgw-admin', ['-c', conf, 'user', 'create', '--uid=offload', '--display-name=offload test user', `--access-key=${ACCESS_KEY}`, `--secret-key=${SECRET_KEY}`], { env, timeoutMs: 60_000 });
    return gateway;
  } catch (err) {
    await stopCeph(dir);
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

/** Stops the daemons this folder's pid files name (only if their command line names our config), then removes it. */
async function stopCeph(dir: string): Promise<void> {
  const conf = join(dir, 'ceph.conf');
  for (const name of DAEMONS) {
    const pidFile = join(dir, 'run', `${name}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!alive(pid) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(conf)) continue;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(dir, { recursive: true, force: true });
}
