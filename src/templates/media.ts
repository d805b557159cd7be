/**
 * `offload/media`: the template helper. `media('css/site.css')` gives the URL of a media file in the
 * bucket, hashed when the manifest knows it. No AWS SDK here: the helper only builds URLs.
 *
 *   import { createMedia, mediaMiddleware } from 'offload/media';
 *   const media = createMedia({ base: 'https://media.example.com/', manifest: './offload-manifest.json' });
 *   app.use(mediaMiddleware(media));          // templates: {{ media('css/site.css') }}
 */
import { loadManifestSync, parseManifest, type Manifest, type ManifestEntry } from './manifest.js';
import { joinBase, normalizeBase, splitSuffix } from './urls.js';

export type { Manifest, ManifestEntry } from './manifest.js';
export { MANIFEST_NAME } from './manifest.js';

export interface MediaOptions {
  /** Where media is served from: `https://media.example.com/`, or a local path such as `/media` for offline development. */
  base: string;
  /** The manifest object, or the path of `offload-manifest.json` (read synchronously once). Omit to use unhashed names. */
  manifest?: Manifest | string;
  /**
   * `development` throws on a path the manifest does not know; `production` warns once per path
   * and returns the unhashed URL. Default: from NODE_ENV.
   */
  mode?: 'development' | 'production';
  /** Where production warnings go (default console.warn). */
  warn?: (message: string) => void;
}

export interface Media {
  /** Full URL of a media file, e.g. `media('css/site.css')` → `https://media.example.com/css/site.3f2a9c1b.css`. */
  (path: string): string;
  /** The `sha384-…` integrity value for `<script integrity>` / `<link integrity>` (empty string if unknown). */
  integrity(path: string): string;
  /** Whether the manifest knows the path (always true without a manifest). */
  has(path: string): boolean;
  /** The normalized base, ending in `/`. */
  readonly base: string;
  readonly manifest: Manifest | undefined;
}

export function createMedia(options: MediaOptions): Media {
  const base = normalizeBase(options.base);
  const manifest =
    options.manifest === undefined
      ? undefined
      : typeof options.manifest === 'string'
        ? loadManifestSync(options.manifest)
        : parseManifest(options.manifest);
  const mode = options.mode ?? (process.env.NODE_ENV === 'production' ? 'production' : 'development');
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const warned = new Set<string>();

  const lookup = (path: string): { entry: ManifestEntry | undefined; logical: string; suffix: string } => {
    if (typeof path !== 'string' || path === '') throw new TypeError('media(path): path must be a non-empty string');
    const { path: p, suffix } = splitSuffix(path);
    const logical = p.replace(/^\.?\/+/, '');
    return { entry: manifest?.files[logical], logical, suffix };
  };

  const unknown = (logical: string): void => {
    const message = `media: "${logical}" is not in the media manifest (was it synced with --hash?)`;
    if (mode === 'development') throw new Error(message);
    if (!warned.has(logical)) {
      warned.add(logical);
      warn(`${message}; using the unhashed URL`);
    }
  };

  const media = ((path: string): string => {
    const { entry, logical, suffix } = lookup(path);
    if (manifest && !entry) unknown(logical);
    return joinBase(base, entry?.key ?? logical) + suffix;
  }) as Media;
  media.integrity = (path: string): string => {
    const { entry, logical } = lookup(path);
    if (manifest && !entry) unknown(logical);
    return entry?.integrity ?? '';
  };
  media.has = (path: string): boolean => !manifest || lookup(path).entry !== undefined;
  Object.defineProperty(media, 'base', { value: base, enumerable: true });
  Object.defineProperty(media, 'manifest', { value: manifest, enumerable: true });
  return media;
}

interface LocalsResponse {
  locals?: Record<string, unknown>;
}

/** Express/Connect middleware: makes `media` available to every template as `res.locals.media`. */
export function mediaMiddleware(media: Media, name = 'media'): (req: unknown, res: LocalsResponse, next: (err?: unknown) => void) => void {
  return (_req, res, next) => {
    // Express has res.locals; plain Connect gets one.
    res.locals ??= {};
    res.locals[name] = media;
    next();
  };
}
