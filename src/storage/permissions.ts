/**
 * The data folder is private to the server's user: meta.db holds every access key's secret and
 * blobs/ every private object. Folders are made 0700 and files 0600 by whoever creates them
 * (explicit modes, so the process umask does not matter), and a tree left readable by others
 * (made by an older version, copied with cp -r, restored from a backup) is tightened at start-up.
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Walks the data folder once and removes every group and other permission bit, folders to 0700
 * and files to 0600. Symbolic links are neither followed nor changed. Returns how many entries
 * were changed, and says so in one warning line.
 */
export function tightenDataFolder(dataDir: string, warn: (line: string) => void = (line) => console.warn(line)): number {
  let changed = 0;
  const visit = (path: string): void => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined || st.isSymbolicLink()) return;
    const wanted = st.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((st.mode & 0o777) !== wanted && (st.isDirectory() || st.isFile())) {
      chmodSync(path, wanted);
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
