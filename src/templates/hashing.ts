/**
 * Content hashing of a media set: `css/site.css` → `css/site.3f2a9c1b.css`, where the hash is the
 * first 8 hex digits of the SHA-256 of the bytes that will be uploaded. References between files
 * of the set (CSS `url()`/`@import`, `sourceMappingURL`) are rewritten to the hashed names first,
 * leaves before the files that use them, so a changed image also renames every stylesheet using it.
 * Pure library: reads files, never uploads.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import mime from 'mime';
import { applyEdits, findCssRefs, findSourceMapRefs, type TextRef } from './css-refs.js';
import { MANIFEST_NAME, type Manifest } from './manifest.js';
import { encodeKey, replaceBasename, resolveRef } from './urls.js';
import { stronglyConnected } from '../util/graph.js';

export interface HashOptions {
  /**
   * Where the set was served from (`/media/` or `https://media.example.com/`): references written as
   * base-absolute URLs (`url(/media/img/a.png)`) are found and rewritten as relative ones
   * (`url(../img/a.1234abcd.png)`), which work wherever the set is served from.
   */
  base?: string;
  /** Which files get a hashed name (default: all but HTML pages and the manifest). Others keep their name but are still rewritten. */
  shouldHash?: (logicalPath: string) => boolean;
}

export interface HashedFile {
  logicalPath: string;
  /** Key to upload under (relative to the media prefix). */
  hashedKey: string;
  /** The source file on disk. */
  path: string;
  /** Rewritten bytes to upload instead of the file, when references inside it changed. */
  body?: Buffer;
  contentType: string;
  size: number;
  /** `sha384-…` of the uploaded bytes. */
  integrity: string;
}

export interface HashResult {
  files: HashedFile[];
  manifest: Manifest;
  /** Non-fatal notes, e.g. reference cycles. */
  warnings: string[];
}

interface Node {
  logicalPath: string;
  path: string;
  text?: string;
  /** `absolute`: written as a base-absolute URL; rewritten as a relative one so it works wherever the set is served. */
  refs: { ref: TextRef; target: string; suffix: string; absolute: boolean }[];
}

const CSS = /\.css$/i;
const JS = /\.(m|c)?js$/i;

export function defaultShouldHash(logicalPath: string): boolean {
  return logicalPath !== MANIFEST_NAME && !/\.html?$/i.test(logicalPath);
}

export function contentTypeFor(path: string): string {
  const type = mime.getType(path) ?? 'application/octet-stream';
  return /^text\/|\/(json|javascript|xml|svg\+xml)$/.test(type) ? `${type}; charset=utf-8` : type;
}

/** `dir/name.ext` + hash → `dir/name.<hash>.ext`. */
export function hashedName(logicalPath: string, hash: string): string {
  const ext = posix.extname(logicalPath);
  return `${logicalPath.slice(0, logicalPath.length - ext.length)}.${hash}${ext}`;
}

/** Normalizes a logical path: forward slashes, no leading `./` or `/`. */
export function normalizeLogicalPath(p: string): string {
  return posix.normalize(p.replace(/\\/g, '/')).replace(/^(\.\/|\/)+/, '');
}

export async function hashFiles(input: Record<string, string> | Map<string, string>, opts: HashOptions = {}): Promise<HashResult> {
  const shouldHash = opts.shouldHash ?? defaultShouldHash;
  const entries = [...(input instanceof Map ? input.entries() : Object.entries(input))]
    .map(([logical, path]) => [normalizeLogicalPath(logical), path] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const nodes = new Map<string, Node>();
  for (const [logicalPath, path] of entries) nodes.set(logicalPath, { logicalPath, path, refs: [] });

  await mapLimit([...nodes.values()], 16, async (node) => {
    if (!CSS.test(node.logicalPath) && !JS.test(node.logicalPath)) return;
    node.text = await readFile(node.path, 'utf8');
    const found = CSS.test(node.logicalPath) ? findCssRefs(node.text) : findSourceMapRefs(node.text);
    for (const ref of found) {
      const resolved = resolveRef(ref.value, node.logicalPath, opts.base);
      if (resolved && nodes.has(resolved.logicalPath)) {
        const absolute = /^([a-z][a-z0-9+.-]*:|\/)/i.test(ref.value);
        node.refs.push({ ref, target: resolved.logicalPath, suffix: resolved.suffix, absolute });
      }
    }
  });

  const keys = new Map<string, string>();
  const results = new Map<string, HashedFile>();
  const warnings: string[] = [];
  const rewrite = (node: Node, inside: Set<string>): string => {
    const edits = node.refs
      .filter((r) => !inside.has(r.target))
      .map((r) => {
        const key = keys.get(r.target) ?? r.target;
        const replacement = r.absolute
          ? encodeKey(posix.relative(posix.dirname(node.logicalPath), key)) + r.suffix
          : replaceBasename(r.ref.value, posix.basename(key));
        return { start: r.ref.start, end: r.ref.end, replacement };
      });
    return applyEdits(node.text ?? '', edits);
  };
  const finish = (node: Node, key: string, body: Buffer | undefined, digest?: Digest) => {
    const d = digest ?? digestOf(body ?? Buffer.alloc(0));
    const original = node.text !== undefined && body !== undefined && body.equals(Buffer.from(node.text, 'utf8'));
    results.set(node.logicalPath, {
      logicalPath: node.logicalPath,
      hashedKey: key,
      path: node.path,
      body: body && !original ? body : undefined,
      contentType: contentTypeFor(node.logicalPath),
      size: d.size,
      integrity: d.integrity,
    });
  };

  for (const component of stronglyConnected(new Map([...nodes].map(([path, node]) => [path, node.refs.map((r) => r.target)])))) {
    const members = component.map((p) => nodes.get(p)!);
    const cyclic = members.length > 1 || members.some((m) => m.refs.some((r) => r.target === m.logicalPath));
    if (!cyclic) {
      const node = members[0]!;
      if (node.text === undefined) {
        const d = await digestFile(node.path);
        keys.set(node.logicalPath, shouldHash(node.logicalPath) ? hashedName(node.logicalPath, d.hash) : node.logicalPath);
        finish(node, keys.get(node.logicalPath)!, undefined, d);
      } else {
        const body = Buffer.from(rewrite(node, new Set()), 'utf8');
        const d = digestOf(body);
        keys.set(node.logicalPath, shouldHash(node.logicalPath) ? hashedName(node.logicalPath, d.hash) : node.logicalPath);
        finish(node, keys.get(node.logicalPath)!, body, d);
      }
      continue;
    }
    // A cycle: no file's hash can include the final names of the others. Hash the group's
    // content (with references out of the group already rewritten) and name every member from it.
    warnings.push(`reference cycle between ${component.join(', ')}: their names are hashed together`);
    const inside = new Set(component);
    const group = createHash('sha256');
    for (const m of [...members].sort((a, b) => (a.logicalPath < b.logicalPath ? -1 : 1))) {
      group.update(m.logicalPath).update('\0').update(rewrite(m, inside)).update('\0');
    }
    const groupHash = group.digest('hex');
    for (const m of members) {
      const hash = createHash('sha256').update(groupHash).update(m.logicalPath).digest('hex').slice(0, 8);
      keys.set(m.logicalPath, shouldHash(m.logicalPath) ? hashedName(m.logicalPath, hash) : m.logicalPath);
    }
    for (const m of members) finish(m, keys.get(m.logicalPath)!, Buffer.from(rewrite(m, new Set()), 'utf8'));
  }

  const files = [...results.values()].sort((a, b) => (a.logicalPath < b.logicalPath ? -1 : 1));
  const manifest: Manifest = { version: 1, files: {} };
  for (const f of files) {
    manifest.files[f.logicalPath] = { key: f.hashedKey, size: f.size, contentType: f.contentType, integrity: f.integrity };
  }
  return { files, manifest, warnings };
}

interface Digest {
  hash: string;
  integrity: string;
  size: number;
}

function digestOf(body: Buffer): Digest {
  return {
    hash: createHash('sha256').update(body).digest('hex').slice(0, 8),
    integrity: `sha384-${createHash('sha384').update(body).digest('base64')}`,
    size: body.length,
  };
}

function digestFile(path: string): Promise<Digest> {
  return new Promise((resolve, reject) => {
    const sha256 = createHash('sha256');
    const sha384 = createHash('sha384');
    let size = 0;
    createReadStream(path)
      .on('data', (chunk: Buffer | string) => {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        sha256.update(b);
        sha384.update(b);
        size += b.length;
      })
      .on('error', reject)
      .on('end', () => resolve({ hash: sha256.digest('hex').slice(0, 8), integrity: `sha384-${sha384.digest('base64')}`, size }));
  });
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
