/**
 * The `offload-manifest.json` format (logical path → hashed key) and the cleanup rule for old
 * hashed files: a hashed key that is no longer current stays in the bucket for a grace period
 * after it was replaced, so pages cached with old HTML keep working.
 */
import { readFileSync } from 'node:fs';

export const MANIFEST_NAME = 'offload-manifest.json';

export interface ManifestEntry {
  /** Object key below the media base, e.g. `css/site.3f2a9c1b.css`. */
  key: string;
  size: number;
  contentType: string;
  /** Subresource Integrity of the uploaded bytes, `sha384-…`. */
  integrity: string;
}

export interface Manifest {
  version: 1;
  files: Record<string, ManifestEntry>;
  /** Hashed keys that stopped being current, with the time they were replaced (ISO 8601). */
  retired?: Record<string, string>;
}

export function emptyManifest(): Manifest {
  return { version: 1, files: {} };
}

/** Validates a parsed manifest; throws with a clear message when it is not one. */
export function parseManifest(value: unknown, source = 'manifest'): Manifest {
  if (!value || typeof value !== 'object') throw new Error(`${source}: not a JSON object`);
  const v = value as { version?: unknown; files?: unknown; retired?: unknown };
  if (v.version !== 1) throw new Error(`${source}: unsupported manifest version ${String(v.version)}`);
  if (!v.files || typeof v.files !== 'object') throw new Error(`${source}: missing "files"`);
  for (const [path, entry] of Object.entries(v.files as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object' || typeof (entry as { key?: unknown }).key !== 'string') {
      throw new Error(`${source}: entry "${path}" has no key`);
    }
  }
  return value as Manifest;
}

/** Reads and validates a manifest file synchronously (used at app start-up). */
export function loadManifestSync(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read manifest ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`manifest ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseManifest(json, file);
}

export function serializeManifest(manifest: Manifest): string {
  const files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const out: Manifest = { version: 1, files };
  if (manifest.retired && Object.keys(manifest.retired).length > 0) out.retired = manifest.retired;
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** `7d`, `12h`, `30m`, `45s`, `500ms` or a number of milliseconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (!m?.[1]) throw new Error(`invalid duration "${text}" (use e.g. 7d, 12h, 30m)`);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit] ?? 1;
  return Number(m[1]) * factor;
}

const HASHED = /^(.*)\.([0-9a-f]{8})(\.[^./]+)?$/;

/** If `key` is a hashed name (`dir/name.1234abcd.ext`), its unhashed form (`dir/name.ext`). */
export function unhashedKey(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const m = HASHED.exec(key.slice(slash + 1));
  if (!m) return undefined;
  return key.slice(0, slash + 1) + (m[1] ?? '') + (m[3] ?? '');
}

export interface RemoteObject {
  key: string;
  lastModified?: Date;
}

export interface CleanupPlan {
  /** Old hashed keys still inside the grace period: leave them in the bucket. */
  keep: string[];
  /** Old hashed keys past the grace period: safe to delete. */
  remove: string[];
  /** The `retired` map to store in the new manifest (replacement times of kept keys). */
  retired: Record<string, string>;
}

/**
 * Decides which old hashed objects to keep after a hashed sync. Only keys that are hashed variants
 * of a file in the new manifest are considered (other objects are not this function's business).
 * The replacement time of a key comes from the previous manifest's `retired` map; a key that was
 * current in the previous manifest was replaced now; otherwise its upload time is used.
 */
export function planHashedCleanup(opts: {
  remote: RemoteObject[];
  next: Manifest;
  previous?: Manifest;
  graceMs: number;
  now?: Date;
  /** Prefix under which the media set lives in the bucket (remote keys carry it). */
  prefix?: string;
}): CleanupPlan {
  const now = opts.now ?? new Date();
  const prefix = opts.prefix ?? '';
  const current = new Set(Object.values(opts.next.files).map((e) => e.key));
  const logical = new Set(Object.keys(opts.next.files));
  const previousCurrent = new Set(Object.values(opts.previous?.files ?? {}).map((e) => e.key));
  const plan: CleanupPlan = { keep: [], remove: [], retired: {} };
  for (const obj of opts.remote) {
    if (!obj.key.startsWith(prefix)) continue;
    const key = obj.key.slice(prefix.length);
    if (current.has(key)) continue;
    const original = unhashedKey(key);
    if (!original || !logical.has(original)) continue;
    const recorded = opts.previous?.retired?.[key];
    const retiredAt = recorded ? new Date(recorded) : previousCurrent.has(key) ? now : (obj.lastModified ?? now);
    if (now.getTime() - retiredAt.getTime() < opts.graceMs) {
      plan.keep.push(obj.key);
      plan.retired[key] = retiredAt.toISOString();
    } else {
      plan.remove.push(obj.key);
    }
  }
  return plan;
}
