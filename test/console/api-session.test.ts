/**
 * The console's sign-in and session security, against the real server: cookie flags, the
 * security headers, CSRF, sign-out, idle expiry and the sign-in limit (with a short window and
 * idle time set through the environment, so nothing sleeps for minutes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, errorCode, signedIn, startConsoleServer, type ConsoleServer } from './api-client.js';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let server: ConsoleServer;

beforeAll(async () => {
  server = await startConsoleServer({ env: { OFFLOAD_CONSOLE_SIGNIN_WINDOW_MS: '1500', OFFLOAD_CONSOLE_SIGNIN_MAX_FAILURES: '3', OFFLOAD_CONSOLE_IDLE_MS: '1200' } });
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('console sessions', () => {
  it('signs in with the root key: HttpOnly, SameSite=Strict cookie on the console path, no Secure over plain HTTP', async () => {
    const client = new ConsoleClient(server.consoleOrigin);
    const { status, body, res } = await client.signIn(server.accessKeyId, server.secretAccessKey);
    expect(status).toBe(200);
    expect(body).toMatchObject({ accessKeyId: server.accessKeyId, isRoot: true, displayName: 'root' });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^offload_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('; HttpOnly');
    expect(cookie).toContain('; SameSite=Strict');
    expect(cookie).toContain('; Path=/_offload/console');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain(server.secretAccessKey);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const again = await client.json('GET', '/session');
    expect(again.status).toBe(200);
    expect(again.body.csrfToken).toBe(body.csrfToken);
  });

  it('puts the strict CSP and the other security headers on API answers, errors and pages', async () => {
    const answers = [
      await fetch(`${server.consoleOrigin}/_offload/console/api/session`),
      await fetch(`${server.consoleOrigin}/_offload/console/`),
      await fetch(`${server.endpoint}/_offload/console/api/buckets`),
      await fetch(`${server.endpoint}/_offload/console/`),
    ];
    for (const res of answers) {
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(answers[0]!.status).toBe(401);
    expect(answers[0]!.headers.get('cache-control')).toBe('no-store');
    expect(errorCode(await answers[0]!.json())).toBe('NotSignedIn');
    expect(answers[1]!.status).toBe(200);
    expect(answers[1]!.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('answers 404 for anything but the console on the console port, and leads / to the console', async () => {
    const other = await fetch(`${server.consoleOrigin}/some-bucket/key.txt`);
    expect(other.status).toBe(404);
    const root = await fetch(`${server.consoleOrigin}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/_offload/console/');
  });

  it('refuses a wrong secret with 401 InvalidCredentials, and an unknown key the same way', async () => {
    const client = new ConsoleClient(server.consoleOrigin);
    const wrong = await client.signIn(server.accessKeyId, 'not-the-secret');
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong.body)).toBe('InvalidCredentials');
    expect(wrong.res.headers.get('set-cookie')).toBeNull();
    const unknown = await new ConsoleClient(server.consoleOrigin).signIn('NOSUCHKEY000', 'whatever-secret');
    expect(unknown.status).toBe(401);
    expect(errorCode(unknown.body)).toBe('InvalidCredentials');
    await sleep(1600); // let this test's failures leave the 1.5 s window
  });

  it('refuses a sign-in that is not JSON (a cross-site form cannot send one)', async () => {
    const res = await fetch(`${server.consoleOrigin}/_offload/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `accessKeyId=${server.accessKeyId}&secretAccessKey=${server.secretAccessKey}` });
    expect(res.status).toBe(415);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('needs the CSRF token on every state-changing call: missing or wrong is 403 CsrfTokenMissing', async () => {
    const client = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
    const missing = await client.json('POST', '/buckets', { json: { name: 'csrf-missing' }, csrf: null });
    expect(missing.status).toBe(403);
    expect(errorCode(missing.body)).toBe('CsrfTokenMissing');
    const wrong = await client.json('POST', '/buckets', { json: { name: 'csrf-wrong' }, csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(errorCode(wrong.body)).toBe('CsrfTokenMissing');
    const signOut = await client.json('DELETE', '/session', { csrf: null });
    expect(signOut.status).toBe(403);
    const list = await client.json<{ buckets: { name: string }[] }>('GET', '/buckets');
    expect(list.body.buckets.map((b) => b.name)).not.toContain('csrf-missing');
    const made = await client.json('POST', '/buckets', { json: { name: 'csrf-right' } });
    expect(made.status).toBe(201);
  });

  it('ends the session on the server at sign-out: the same cookie is then 401', async () => {
    const client = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
    const cookie = client.cookie;
    const out = await client.json('DELETE', '/session');
    expect(out.status).toBe(200);
    expect(out.res.headers.get('set-cookie')).toContain('Max-Age=0');
    client.cookie = cookie; // a copy of the cookie kept from before
    const after = await client.json('GET', '/buckets');
    expect(after.status).toBe(401);
    expect(errorCode(after.body)).toBe('NotSignedIn');
  });

  it('ends an idle session (idle time 1.2 s here), and keeps one in use alive', async () => {
    const idle = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
    const busy = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      expect((await busy.json('GET', '/session')).status).toBe(200);
    }
    const expired = await idle.json('GET', '/session');
    expect(expired.status).toBe(401);
    expect(errorCode(expired.body)).toBe('NotSignedIn');
  });

  it('limits failed sign-ins per key: 429 with Retry-After and a plain message, even for the right secret, then allowed after the window', async () => {
    for (let i = 0; i < 3; i++) expect((await new ConsoleClient(server.consoleOrigin).signIn(server.accessKeyId, `wrong-${i}`)).status).toBe(401);
    const limited = await new ConsoleClient(server.consoleOrigin).signIn(server.accessKeyId, server.secretAccessKey);
    expect(limited.status).toBe(429);
    expect(errorCode(limited.body)).toBe('TooManySignInAttempts');
    expect(Number(limited.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((limited.body as { error: { message: string } }).error.message).toMatch(/Too many failed sign-ins.*Try again/);
    await sleep(1600);
    const allowed = await new ConsoleClient(server.consoleOrigin).signIn(server.accessKeyId, server.secretAccessKey);
    expect(allowed.status).toBe(200);
  });

  it('limits failed sign-ins per address too, whatever key is tried', async () => {
    for (let i = 0; i < 3; i++) expect((await new ConsoleClient(server.consoleOrigin).signIn(`GUESS${i}KEY000`, 'wrong-secret')).status).toBe(401);
    const limited = await new ConsoleClient(server.consoleOrigin).signIn('ANOTHERKEY000', 'wrong-secret');
    expect(limited.status).toBe(429);
    await sleep(1600);
    expect((await new ConsoleClient(server.consoleOrigin).signIn(server.accessKeyId, server.secretAccessKey)).status).toBe(200);
    // still alive and answering S3
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });
});
