/**
 * Single flight across the server's worker processes (`--workers N`): the process that fetches a
 * key holds a claim file in the data folder (created exclusively, so exactly one wins); the
 * others wait for it to go away and then answer from what was stored. A claim older than the
 * longest a fetch may take, or one whose process is gone (a crash), is taken over.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const POLL_MS = 25;

export class FillClaims {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'origin-fills');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private path(id: string): string {
    return join(this.dir, createHash('sha256').update(id).digest('hex').slice(0, 40));
  }

  /** True when this process now holds the claim for `id`; release() it when the fetch settles. */
  tryClaim(id: string, staleAfterMs: number): boolean {
    const path = this.path(id);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no claims possible: fetch alone
        const age = Date.now() - (statMs(path) ?? Date.now());
        if (age <= staleAfterMs && holderAlive(path)) return false;
        rmSync(path, { force: true });
      }
    }
    return false;
  }

  release(id: string): void {
    rmSync(this.path(id), { force: true });
  }

  /** Resolves once the claim on `id` is gone, its holder died, or `maxMs` passed. */
  async waitFor(id: string, maxMs: number): Promise<void> {
    const path = this.path(id);
    const until = Date.now() + maxMs;
    while (statMs(path) !== undefined && Date.now() < until && holderAlive(path)) await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** A claim left by a process that is gone (a crash, a restart) holds nothing. */
function holderAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
  // Written but not yet filled in by its creator: count it as alive.
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
