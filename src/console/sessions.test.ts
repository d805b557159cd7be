/** Unit checks of what the integration tests cannot reach over plain loopback HTTP: the Secure flag over TLS, the absolute lifetime, the limiter's window. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from './session-store.js';
import { Sessions } from './sessions.js';
import { SignInLimiter } from './rate-limit.js';

const key = { accessKeyId: 'AK', secretAccessKey: 'secret-secret', owner: 'o', displayName: 'k' };
const request = (cookie?: string, encrypted = false) => ({ headers: { cookie }, socket: { encrypted } }) as unknown as IncomingMessage;

describe('console sessions (unit)', () => {
  it('marks the cookie Secure when the request came over TLS', () => {
    const sessions = new Sessions(new MemorySessionStore(), { idleMs: 1000, maxAgeMs: 5000 }, () => key, 'ROOT');
    expect(sessions.setCookie(request(undefined, true), 'id')).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=5; Secure$/);
    expect(sessions.setCookie(request(undefined, false), 'id')).not.toContain('Secure');
  });

  it('stores only a hash of the id, and ends a session past its absolute lifetime even when in use', async () => {
    const store = new MemorySessionStore();
    const sessions = new Sessions(store, { idleMs: 1000, maxAgeMs: 5000 }, () => key, 'ROOT');
    const { id, session } = await sessions.start(key, 0);
    expect(session.record.idHash).not.toContain(id);
    expect(store.find(id)).toBeUndefined();
    const cookie = `offload_session=${id}`;
    for (let t = 900; t <= 4900; t += 900) expect(await sessions.resume(request(cookie), t)).toBeDefined();
    expect(await sessions.resume(request(cookie), 5001)).toBeUndefined();
  });

  it('counts failures in a sliding window', () => {
    const limiter = new SignInLimiter({ maxFailures: 2, windowMs: 100 });
    limiter.recordFailure('ip:1', 0);
    expect(limiter.waitFor('ip:1', 10)).toBe(0);
    limiter.recordFailure('ip:1', 50);
    expect(limiter.waitFor('ip:1', 60)).toBe(40);
    expect(limiter.waitFor('ip:1', 100)).toBe(0);
  });
});
