/**
 * Shared by the disk, permission, log and fault tests (which start the server with
 * test/helpers/server.ts, reading its output()): the data folder's files as the tests inspect them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, lstatSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';

/** Every file and folder under dir (dir itself first), without following symbolic links. */
export function treeOf(dir: string): { path: string; mode: number; isDir: boolean; size: number }[] {
  const out: { path: string; mode: number; isDir: boolean; size: number }[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path);
    out.push({ path, mode: st.mode & 0o777, isDir: st.isDirectory(), size: st.size });
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return out;
}

/** Deterministic bytes per (key, version), starting with `v=<version>;` so a reader can tell which version it got. */
export function versionBytes(key: string, version: number, size: number): Buffer {
  const seed = createHash('sha256').update(`${key}#${version}`).digest();
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  Buffer.from(`v=${version};`).copy(out, 0);
  return out;
}

/** The version a body says it is (see versionBytes), or undefined. */
export function versionOf(bytes: Buffer): number | undefined {
  const m = /^v=(\d+);/.exec(bytes.subarray(0, 24).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/**
 * What the start-up reclaim must have left clean: files under tmp/, blob files that no blob row
 * names (orphans), and blob rows whose file is missing (lost data).
 */
export function strays(dataDir: string): { temp: string[]; orphans: string[]; missing: string[] } {
  const files = (dir: string) => (existsSync(dir) ? treeOf(dir).filter((e) => !e.isDir).map((e) => e.path) : []);
  const db = new Database(join(dataDir, 'meta.db'), { readonly: true, fileMustExist: true });
  try {
    const inline = new Set(db.prepare<[], string>('SELECT id FROM inline_blobs').pluck().all());
    const rows = new Set(db.prepare<[], string>('SELECT id FROM blobs').pluck().all().filter((id) => !inline.has(id)));
    const onDisk = new Set(files(join(dataDir, 'blobs')).map((p) => basename(p)));
    return {
      temp: files(join(dataDir, 'tmp')),
      orphans: [...onDisk].filter((id) => !rows.has(id)),
      missing: [...rows].filter((id) => !onDisk.has(id)),
    };
  } finally {
    db.close();
  }
}
