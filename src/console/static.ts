/**
 * The built front end (dist/console-ui/): index.html for the console's pages, its hashed files
 * with a year of caching. Nothing outside that folder is reachable, and when the front end was
 * not built a one-line page says so.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** `name-HASH.ext`, as esbuild names its outputs: the contents never change under that name. */
const HASHED = /-[A-Za-z0-9]{8,}\.[a-z0-9]+$/;

export function serveStatic(req: IncomingMessage, res: ServerResponse, path: string, dir: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }).end();
    return;
  }
  const name = path.replace(/^\/+/, '');
  // One plain file name: no folders, no dot files, nothing to climb out of the folder with.
  const asset = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..') && name !== 'index.html' ? name : undefined;
  const file = asset !== undefined && TYPES[extname(asset)] !== undefined ? asset : undefined;
  if (file !== undefined && sendFile(req, res, join(dir, file), HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache')) return;
  if (asset !== undefined && extname(asset) !== '') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end('Not Found\n');
    return;
  }
  // Any other path is one of the console's pages: the front end routes it.
  if (sendFile(req, res, join(dir, 'index.html'), 'no-cache')) return;
  const text = '<!doctype html><meta charset="utf-8"><title>Offload console</title><p>The Offload console was not built: run npm run build.</p>\n';
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendFile(req: IncomingMessage, res: ServerResponse, path: string, cacheControl: string): boolean {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  res.writeHead(200, { 'Content-Type': TYPES[extname(path)]!, 'Content-Length': size, 'Cache-Control': cacheControl });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(path).on('error', () => res.destroy()).pipe(res);
  return true;
}
