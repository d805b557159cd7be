/** Lists the HTML and CSS files of a built site folder, honouring --exclude globs. */
import { readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';

export const PAGE_EXT = /\.(html?|xhtml)$/i;
export const CSS_EXT = /\.css$/i;

/**
 * Whether a site file lies in the site's own copy of the media folder (`media/css/site.css` for
 * `/media/`): that folder is what `offload sync` uploads, so neither rewrite nor check treats its
 * files as pages of the site, and rewrite never edits them (sync --hash rewrites the references
 * in its hashed copies itself).
 */
export function isInMediaFolder(file: string, mediaBase: string): boolean {
  const base = mediaBase.endsWith('/') ? mediaBase : `${mediaBase}/`;
  // Media served from the site root ('/') has no folder of its own: every file is a page then.
  return base.startsWith('/') && base !== '/' && `/${file}`.startsWith(base);
}

/** Site-relative paths (forward slashes) of .html/.htm/.css files under `dir`, sorted. */
export async function listSiteFiles(dir: string, exclude: string[] = []): Promise<string[]> {
  const isExcluded = exclude.length > 0 ? picomatch(exclude, { dot: true }) : () => false;
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const full = join(current, e.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (isExcluded(rel) || (e.isDirectory() && isExcluded(`${rel}/`))) continue;
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && (PAGE_EXT.test(e.name) || CSS_EXT.test(e.name))) out.push(rel);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every file under a media folder as logical path → absolute path (input for hashFiles). */
export async function listMediaFiles(dir: string, exclude: string[] = []): Promise<Map<string, string>> {
  const isExcluded = exclude.length > 0 ? picomatch(exclude, { dot: true }) : () => false;
  const out = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const e of await readdir(current, { withFileTypes: true })) {
      const full = join(current, e.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (isExcluded(rel)) continue;
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.set(rel, resolve(full));
    }
  };
  await walk(dir);
  return out;
}
