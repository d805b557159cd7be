/** A console API client for tests: plain fetch, one cookie jar, the CSRF token sent once signed in. */
import { startServer, type StartOptions, type TestServer } from '../helpers/server.js';

export interface ConsoleServer extends TestServer {
  /** http://127.0.0.1:<console port> */
  consoleOrigin: string;
}

export async function startConsoleServer(opts: StartOptions = {}): Promise<ConsoleServer> {
  const server = await startServer(opts);
  const m = /offload console on (http:\/\/[^/\s]+)\/_offload\/console\//.exec(server.output());
  if (!m) throw new Error(`no console line in the banner:\n${server.output()}`);
  return Object.assign(server, { consoleOrigin: m[1]! });
}

export class ConsoleClient {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(readonly origin: string) {}

  async request(method: string, path: string, opts: { json?: unknown; body?: Uint8Array | string; headers?: Record<string, string>; csrf?: string | null } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookie) headers.cookie = this.cookie;
    const token = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (token !== null && token !== undefined && method !== 'GET' && method !== 'HEAD') headers['x-offload-csrf'] = token;
    let body: Uint8Array | string | undefined = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    }
    const res = await fetch(`${this.origin}/_offload/console/api${path}`, { method, headers, body, redirect: 'manual' });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) {
      const pair = setCookie.split(';')[0]!;
      this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    return res;
  }

  async json<T = Record<string, unknown>>(method: string, path: string, opts: Parameters<ConsoleClient['request']>[2] = {}): Promise<{ status: number; body: T; res: Response }> {
    const res = await this.request(method, path, opts);
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T, res };
  }

  async signIn(accessKeyId: string, secretAccessKey: string): Promise<{ status: number; body: Record<string, unknown>; res: Response }> {
    const answer = await this.json('POST', '/session', { json: { accessKeyId, secretAccessKey } });
    if (answer.status === 200) this.csrf = answer.body.csrfToken as string;
    return answer;
  }
}

export async function signedIn(origin: string, accessKeyId: string, secret: string): Promise<ConsoleClient> {
  const client = new ConsoleClient(origin);
  const { status, body } = await client.signIn(accessKeyId, secret);
  if (status !== 200) throw new Error(`sign-in failed: ${status} ${JSON.stringify(body)}`);
  return client;
}

export const errorCode = (body: unknown) => (body as { error?: { code?: string } }).error?.code;
