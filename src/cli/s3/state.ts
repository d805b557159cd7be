/**
 * The sync state file: a cache that makes re-runs cheap. It remembers
 *  - local hashes by path + size + mtime, so unchanged files are not read again;
 *  - per destination key, the ETag and the header set last applied, so a change of
 *    --cache-control/--content-type rules is noticed without a HEAD per object.
 * It is only a cache: deleting it costs one hashing pass, never correctness of content.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FileHash } from './hash.js';

export interface LocalRecord extends FileHash {
  size: number;
  mtimeMs: number;
  /** Content-Type sniffed from the bytes, for names no table knows. */
  sniffed?: string;
}

export interface RemoteRecord {
  etag: string;
  /** headersHash() of what was last applied. */
  headers: string;
  /** MD5 of the content we sent, for servers whose ETags are not MD5s (SSE-KMS and others). */
  md5?: string;
  /** Last written with the public-read ACL. */
  public?: boolean;
}

interface StateFile {
  version: 1;
  local: Record<string, LocalRecord>;
  remote: Record<string, RemoteRecord>;
}

export function defaultStateDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'offload', 'sync-state');
}

/** One state file per endpoint + bucket. */
export function stateFileFor(endpoint: string | undefined, bucket: string): string {
  const id = createHash('sha256').update(`${endpoint ?? 'aws'}\n${bucket}`).digest('hex').slice(0, 24);
  return join(defaultStateDir(), `${bucket.replace(/[^a-z0-9.-]/gi, '_')}-${id}.json`);
}

export function headersHash(headers: Record<string, string | boolean | undefined>): string {
  const sorted = Object.keys(headers).sort().map((k) => [k, headers[k] ?? null]);
  return createHash('sha1').update(JSON.stringify(sorted)).digest('hex').slice(0, 20);
}

export class SyncState {
  private data: StateFile = { version: 1, local: {}, remote: {} };
  private dirty = false;

  private constructor(readonly file: string | undefined) {}

  /** Loads the file (a missing or broken file is an empty state); undefined file = in memory only. */
  static async load(file: string | undefined): Promise<SyncState> {
    const state = new SyncState(file);
    if (!file) return state;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<StateFile>;
      if (parsed.version === 1 && parsed.local && parsed.remote) state.data = parsed as StateFile;
    } catch {
      // no state yet
    }
    return state;
  }

  getLocal(path: string, size: number, mtimeMs: number): LocalRecord | undefined {
    const r = this.data.local[path];
    return r && r.size === size && r.mtimeMs === mtimeMs ? r : undefined;
  }

  setLocal(path: string, record: LocalRecord): void {
    this.data.local[path] = record;
    this.dirty = true;
  }

  getRemote(bucket: string, key: string): RemoteRecord | undefined {
    return this.data.remote[`${bucket}/${key}`];
  }

  setRemote(bucket: string, key: string, record: RemoteRecord): void {
    this.data.remote[`${bucket}/${key}`] = record;
    this.dirty = true;
  }

  deleteRemote(bucket: string, key: string): void {
    if (delete this.data.remote[`${bucket}/${key}`]) this.dirty = true;
  }

  /** Writes atomically (temp file + rename); failures to save are not errors of the sync. */
  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(this.data));
      await rename(tmp, this.file);
      this.dirty = false;
    } catch {
      // a read-only cache folder only makes the next run slower
    }
  }
}
