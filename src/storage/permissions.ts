/**
 * The data folder is private to the server's user: meta.db holds every access key's secret and
 * blobs/ every private object. Folders are made 0700 and files 0600 by whoever creates them
 * (explicit modes, so the process umask does not matter), and a tree left readable by others
 * (made by an older version, copied with cp -r, restored from a backup) is tightened at start-up.
 */
import { chmodSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Removes every group and other permission bit in the data folder: folders to 0700, files to
 * 0600; symbolic links are neither followed nor changed. The whole tree is walked only when the
 * folder itself or one of its top-level entries is loose (a tree from an older version, a copy,
 * a restore): below a 0700 folder nobody else can reach anything, and a store of a million blobs
 * should not pay a million lstat calls at every start (measured: 0.56 s per 100,000 files).
 * Returns how many entries were changed, and says so in one warning line.
 */
export function tightenDataFolder(dataDir: string, warn: (line: string) => void = (line) => console.warn(line)): number {
  const topLevel = [dataDir, ...readdirSync(dataDir).map((name) => join(dataDir, name))];
  if (!topLevel.some((path) => loose(lstatSync(path, { throwIfNoEntry: false })))) return 0;
  let changed = 0;
  const visit = (path: string): void => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined || st.isSymbolicLink()) return;
    if (loose(st)) {
      chmodSync(path, st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE);
      changed++;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dataDir);
  if (changed > 0) {
    warn(`offload: warning: ${changed} files and folders in ${dataDir} had loose permissions (other users could read the keys or objects); tightened to 0700 folders and 0600 files`);
  }
  return changed;
}

function loose(st: Stats | undefined): boolean {
  if (st === undefined || !(st.isDirectory() || st.isFile())) return false;
  return (st.mode & 0o777) !== (st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE);
}
