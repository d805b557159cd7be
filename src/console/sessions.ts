/**
 * Console sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie, stored hashed on
 * the server, with an idle and an absolute lifetime checked on every request. Sign-out deletes
 * the record, so the cookie is worthless afterwards even if it was copied.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Credential, CredentialLookup } from '../auth/types.js';
import { cameOverTls, cookieValue } from './http.js';
import type { SessionRecord, SessionStore } from './session-store.js';

export interface SessionLifetimes {
  /** A session unused this long ends (default 30 min). */
  idleMs: number;
  /** A session ends this long after sign-in, used or not (default 12 h). */
  maxAgeMs: number;
}

export const DEFAULT_LIFETIMES: SessionLifetimes = { idleMs: 30 * 60_000, maxAgeMs: 12 * 3_600_000 };
export const SESSION_COOKIE = 'offload_session';
export const COOKIE_PATH = '/_offload/console';

export interface ActiveSession {
  record: SessionRecord;
  credential: Credential;
  isRoot: boolean;
  expiresAt: number;
}

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/** Compares two strings in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export class Sessions {
  constructor(
    private readonly store: SessionStore,
    readonly lifetimes: SessionLifetimes,
    private readonly lookup: CredentialLookup,
    private readonly rootAccessKeyId: string,
  ) {}

  /** A new session for a signed-in key; returns the cookie's id (never stored as such). */
  async start(credential: Credential, now = Date.now()): Promise<{ id: string; session: ActiveSession }> {
    await this.store.removeExpired(now - this.lifetimes.idleMs, now - this.lifetimes.maxAgeMs);
    const id = randomBytes(32).toString('base64url');
    const record: SessionRecord = { idHash: hashId(id), accessKeyId: credential.accessKeyId, csrfToken: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now };
    await this.store.insert(record);
    return { id, session: this.active(record, credential) };
  }

  /** The request's session, if its cookie names a live one (and its key still exists); refreshes its idle clock. */
  async resume(req: IncomingMessage, now = Date.now()): Promise<ActiveSession | undefined> {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const record = await this.store.find(hashId(id));
    if (!record) return undefined;
    const credential = this.lookup(record.accessKeyId);
    if (!credential || now - record.lastSeenAt > this.lifetimes.idleMs || now - record.createdAt > this.lifetimes.maxAgeMs) {
      await this.store.remove(record.idHash);
      return undefined;
    }
    // One write per tenth of the idle time at most, not one per request.
    if (now - record.lastSeenAt > Math.min(5_000, this.lifetimes.idleMs / 10)) {
      record.lastSeenAt = now;
      await this.store.touch(record.idHash, now);
    }
    return this.active(record, credential);
  }

  async end(session: ActiveSession): Promise<void> {
    await this.store.remove(session.record.idHash);
  }

  async endAllFor(accessKeyId: string): Promise<void> {
    await this.store.removeForKey(accessKeyId);
  }

  setCookie(req: IncomingMessage, id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.lifetimes.maxAgeMs / 1000)}${cameOverTls(req) ? '; Secure' : ''}`;
  }

  clearCookie(req: IncomingMessage): string {
    return `${SESSION_COOKIE}=; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0${cameOverTls(req) ? '; Secure' : ''}`;
  }

  private active(record: SessionRecord, credential: Credential): ActiveSession {
    const expiresAt = Math.min(record.lastSeenAt + this.lifetimes.idleMs, record.createdAt + this.lifetimes.maxAgeMs);
    return { record, credential, isRoot: credential.accessKeyId === this.rootAccessKeyId, expiresAt };
  }
}

/** What GET/POST /session answer: who is signed in, the CSRF token, when the session ends. */
export function describeSession(s: ActiveSession) {
  return {
    accessKeyId: s.credential.accessKeyId,
    displayName: s.credential.displayName,
    isRoot: s.isRoot,
    scope: s.credential.scope ?? { access: 'all' },
    csrfToken: s.record.csrfToken,
    expiresAt: new Date(s.expiresAt).toISOString(),
  };
}
