/**
 * Anonymous HTTP probes for `offload check`: what an unauthenticated browser gets for a URL.
 * And the mapping of a media URL to the bucket object behind it.
 */
import { normalizeBase, stripBase } from './urls.js';

export interface ProbeResult {
  url: string;
  status: number;
  contentType: string;
  /** Body, only when asked for (stylesheets to scan further). */
  body?: string;
  error?: string;
}

export type FetchLike = typeof fetch;

/** HEAD (falling back to GET when HEAD is not allowed) without credentials. */
export async function probe(url: string, opts: { fetch?: FetchLike; body?: boolean; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const doFetch = opts.fetch ?? fetch;
  const attempt = async (method: 'HEAD' | 'GET'): Promise<Response> =>
    doFetch(url, { method, redirect: 'follow', signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
  try {
    let res = await attempt(opts.body ? 'GET' : 'HEAD');
    if (!opts.body && (res.status === 405 || res.status === 501)) res = await attempt('GET');
    const contentType = res.headers.get('content-type') ?? '';
    const body = opts.body && res.ok ? await res.text() : undefined;
    if (!opts.body || body === undefined) await res.body?.cancel().catch(() => undefined);
    return { url, status: res.status, contentType, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { url, status: 0, contentType: '', error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

export interface ObjectLocation {
  /** Where to send the anonymous request. */
  url: string;
  bucket?: string;
  key?: string;
}

/**
 * Maps a media URL under `base` to the object behind it. With an endpoint and a path-style base
 * (`ENDPOINT/bucket/prefix/`), the bucket and key are named and the object is probed at the endpoint;
 * with `bucket` given too, any base (a custom domain, a CDN) maps to `ENDPOINT/bucket/prefix+key`.
 * Without an endpoint the URL is probed as it is.
 */
export function locateObject(url: string, base: string, opts: { endpoint?: string; bucket?: string; prefix?: string } = {}): ObjectLocation {
  const stripped = stripBase(url, base);
  if (!stripped || !opts.endpoint) return { url: url.startsWith('//') ? `https:${url}` : url };
  const endpoint = normalizeBase(opts.endpoint);
  if (opts.bucket) {
    const key = (opts.prefix ?? '') + stripped.key;
    return { url: endpoint + encodeURIComponent(opts.bucket) + '/' + encodePath(key), bucket: opts.bucket, key };
  }
  const underEndpoint = stripBase(normalizeBase(base), endpoint);
  if (!underEndpoint) return { url };
  const [bucket, ...rest] = underEndpoint.key.split('/');
  const key = rest.join('/') + stripped.key;
  return { url: endpoint + encodePath(`${bucket}/${key}`), bucket, key };
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

const JS_TYPES = /^(text|application)\/(x-)?(javascript|ecmascript)$|^text\/jscript$/;

/** Whether a Content-Type fits how the reference uses the file: 'ok', or an error/warning text. */
export function contentTypeProblem(use: string, contentType: string): { severity: 'error' | 'warning'; message: string } | undefined {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const shown = type || '(none)';
  switch (use) {
    case 'stylesheet':
      return type === 'text/css' ? undefined : { severity: 'error', message: `used as a stylesheet but served as ${shown} (browsers refuse it; expected text/css)` };
    case 'script':
      return JS_TYPES.test(type) ? undefined : { severity: 'error', message: `used as a script but served as ${shown} (expected text/javascript)` };
    case 'image':
    case 'icon':
      return type.startsWith('image/') ? undefined : { severity: 'error', message: `used as an image but served as ${shown} (expected image/*)` };
    case 'font':
      if (type.startsWith('font/') || /^application\/(x-)?font-/.test(type) || type === 'application/vnd.ms-fontobject') return undefined;
      if (type === 'application/octet-stream' || type === '') return { severity: 'warning', message: `font served as ${shown} (works, but font/woff2 etc. is better)` };
      return { severity: 'error', message: `used as a font but served as ${shown} (expected font/*)` };
    case 'media':
      return /^(video|audio)\//.test(type) || /mpegurl|dash\+xml/.test(type) ? undefined : { severity: 'warning', message: `used as video/audio but served as ${shown}` };
    default:
      return undefined;
  }
}
