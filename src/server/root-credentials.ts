/**
 * The root account: its canonical id is made once and kept in the data folder; its keys come
 * from OFFLOAD_ROOT_ACCESS_KEY / OFFLOAD_ROOT_SECRET_KEY or are generated on first start and
 * kept in the same file (mode 0600), like the two codes a new S3 account gets.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { randomAccessKeyId, randomSecret } from '../storage/credentials-gen.js';

export interface RootCredentials {
  ownerId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * True until the banner has shown the generated secret once: also after a first start that
   * generated the keys but failed before printing them (a busy port, say).
   */
  generated: boolean;
  /** Where the keys come from: the environment, or the file in the data folder. */
  source: 'env' | 'file';
  /** Where they are kept. */
  file: string;
}

interface RootFile {
  ownerId: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** False from generation until the secret has been printed once. */
  shown?: boolean;
}

export function loadRootCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): RootCredentials {
  const file = join(dataDir, 'root.json');
  const stored: RootFile | undefined = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RootFile) : undefined;
  const ownerId = stored?.ownerId ?? randomBytes(32).toString('hex');
  const envKey = env.OFFLOAD_ROOT_ACCESS_KEY;
  const envSecret = env.OFFLOAD_ROOT_SECRET_KEY;
  if ((envKey === undefined) !== (envSecret === undefined)) {
    throw new Error('set both OFFLOAD_ROOT_ACCESS_KEY and OFFLOAD_ROOT_SECRET_KEY, or neither');
  }
  if (envKey !== undefined && envSecret !== undefined) {
    if (!stored) writeSecretFile(file, { ownerId });
    return { ownerId, accessKeyId: envKey, secretAccessKey: envSecret, generated: false, source: 'env', file };
  }
  if (stored?.accessKeyId && stored.secretAccessKey) {
    return { ownerId, accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey, generated: stored.shown === false, source: 'file', file };
  }
  const fresh = { ownerId, accessKeyId: randomAccessKeyId(), secretAccessKey: randomSecret(), shown: false };
  writeSecretFile(file, fresh);
  return { ownerId, accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey, generated: true, source: 'file', file };
}

/** Records that the banner printed the generated secret, so later starts do not print it again. */
export function markRootSecretShown(root: RootCredentials): void {
  if (!root.generated || root.source !== 'file') return;
  const stored = JSON.parse(readFileSync(root.file, 'utf8')) as RootFile;
  writeSecretFile(root.file, { ...stored, shown: true });
}

/**
 * Written whole to a temp file, fsynced and renamed, so a crash never leaves half a key. The temp
 * name is this process's own: nodes starting together on a shared data folder (--meta) must not
 * rename each other's file away.
 */
function writeSecretFile(file: string, content: RootFile): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}
