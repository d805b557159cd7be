/**
 * The console's one door to the server's JSON API (/_offload/console/api/). The session lives in
 * an HttpOnly cookie the server sets; the CSRF token it returns is kept in this module's memory
 * only (never localStorage, never a URL) and sent as x-offload-csrf on every state-changing call.
 */
/** The same path on the console port and under the API port. */
export const API_BASE = '/_offload/console/api/';

let csrfToken: string | null = null;
let onSignedOut: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the server says the session is gone (401), so the app can show sign-in. */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/** An error answer from the API, with the server's plain-words message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
  get notAllowed(): boolean {
    return this.status === 403;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function apiHeaders(method: string, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (STATE_CHANGING.has(method) && csrfToken) headers['x-offload-csrf'] = csrfToken;
  return headers;
}

/** Turns a non-2xx answer into an ApiError carrying the server's message. */
export async function errorFrom(status: number, text: string, retryAfter: string | null): Promise<ApiError> {
  let code = `Http${status}`;
  let message = `The server answered ${status}.`;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's page, say): keep the generic message.
  }
  if (status === 403 && !/not allowed/i.test(message)) message = `Not allowed: ${message}`;
  return new ApiError(status, code, message, retryAfter ? Number(retryAfter) : undefined);
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body (uploads) instead of JSON. */
  raw?: Blob;
  query?: Record<string, string | number | boolean | undefined>;
  /** Leave 401 to the caller (the sign-in page checks the session without bouncing). */
  quiet401?: boolean;
}

export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return API_BASE + path.replace(/^\//, '') + (qs ? `?${qs}` : '');
}

export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers = apiHeaders(method, opts.body !== undefined ? { 'content-type': 'application/json' } : {});
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  if (!res.ok) {
    const err = await errorFrom(res.status, text, res.headers.get('retry-after'));
    if (res.status === 401 && !opts.quiet401) {
      setCsrfToken(null);
      onSignedOut();
    }
    throw err;
  }
  return (text ? JSON.parse(text) : {}) as T;
}

/** Encodes one path segment (bucket names and upload ids go in the path). */
export const seg = encodeURIComponent;
