/** `/session`: sign in with an access key and secret, see who is signed in, sign out. */
import { ConsoleError } from './errors.js';
import type { ApiAnswer, ApiCall, SignedInCall } from './deps.js';
import { clientAddress, readJson, stringField } from './http.js';
import { describeSession, sameSecret } from './sessions.js';

/** Compared against when the key does not exist, so that a wrong key id takes as long as a wrong secret. */
const NO_SUCH_SECRET = 'offload-console-no-such-key-secret-value';

export async function signIn(call: ApiCall): Promise<ApiAnswer> {
  const { deps, req } = call;
  const body = await readJson(req);
  const accessKeyId = stringField(body, 'accessKeyId', { max: 128 })!.trim();
  const secret = stringField(body, 'secretAccessKey', { max: 256 })!;
  const ip = `ip:${clientAddress(req)}`;
  const key = `key:${accessKeyId}`;
  const wait = Math.max(deps.limiter.waitFor(ip), deps.limiter.waitFor(key));
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    const minutes = Math.ceil(seconds / 60);
    throw new ConsoleError(429, 'TooManySignInAttempts', `Too many failed sign-ins for this key or from this address. Try again in ${minutes === 1 ? 'a minute' : `${minutes} minutes`}.`, { 'Retry-After': String(seconds) });
  }
  const credential = deps.lookup(accessKeyId);
  const matches = sameSecret(secret, credential?.secretAccessKey ?? NO_SUCH_SECRET) && credential !== undefined;
  if (!matches) {
    deps.limiter.recordFailure(ip);
    deps.limiter.recordFailure(key);
    throw new ConsoleError(401, 'InvalidCredentials', 'The access key or the secret is wrong.');
  }
  const { id, session } = await deps.sessions.start(credential);
  return { status: 200, body: describeSession(session), headers: { 'Set-Cookie': deps.sessions.setCookie(req, id) } };
}

export async function currentSession(call: SignedInCall): Promise<ApiAnswer> {
  return { body: describeSession(call.session) };
}

export async function signOut(call: SignedInCall): Promise<ApiAnswer> {
  await call.deps.sessions.end(call.session);
  return { status: 200, body: { signedOut: true }, headers: { 'Set-Cookie': call.deps.sessions.clearCookie(call.req) } };
}
