/**
 * One server per data folder. `offload serve` (one process, or the primary of `--workers`)
 * claims DATA/server.pid at start-up; a second server on the same folder is refused with the
 * first one's pid. The claim is what lets a one-process server trust its caches without asking
 * SQLite on every request whether another process wrote (storage/engine.ts, soleWriter).
 * A claim left by a process that no longer runs (a crash, kill -9) is taken over.
 */
import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataFolderBusy extends Error {}

export function claimDataFolder(dataDir: string): () => void {
  const file = join(dataDir, 'server.pid');
  const mine = `${process.pid}\n`;
  const staging = join(dataDir, `server.pid.${process.pid}`);
  writeFileSync(staging, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // link() fails if the file exists: of two servers starting at once, one wins.
        linkSync(staging, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
        const holder = Number.parseInt(readText(file), 10);
        if (Number.isInteger(holder) && holder !== process.pid && running(holder)) {
          throw new DataFolderBusy(`another offload server (pid ${holder}) is using ${dataDir}; stop it first, or run one server with --workers N`);
        }
        rmSync(file, { force: true });
      }
    }
  } finally {
    rmSync(staging, { force: true });
  }
  return () => {
    if (readText(file) === mine) unlinkSync(file);
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed server not yet reaped by its parent is a zombie: it holds nothing.
  const state = /\) (\S)/.exec(readText(`/proc/${pid}/stat`))?.[1];
  if (state === 'Z' || state === 'X') return false;
  // A recycled pid (containers restart at low pids) is only a server if it runs Node.
  const cmdline = readText(`/proc/${pid}/cmdline`);
  return cmdline === '' || /node|offload/.test(cmdline);
}
