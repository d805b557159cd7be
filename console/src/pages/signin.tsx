/** Sign-in: access key and secret go in the POST body only; the server answers with a cookie. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { ErrorNote } from '../components';
import type { Session } from '../types';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [accessKeyId, setKey] = useState('');
  const [secretAccessKey, setSecret] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  // Also after sign-out, when the button that had focus is gone: keyboard users start in the form.
  useEffect(() => first.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api<Session>('POST', 'session', { body: { accessKeyId: accessKeyId.trim(), secretAccessKey }, quiet401: true });
      setSecret('');
      onSignedIn(session);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        setError(new Error(`Too many sign-in attempts. ${err.retryAfter ? `Try again in ${err.retryAfter} seconds.` : 'Wait a little and try again.'}`));
      } else if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setError(new Error(err.message || 'That access key and secret do not match.'));
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="center">
      <form class="card signin" method="post" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Offload</h1>
        <p class="muted small">Use an access key and its secret. The root key was printed when the server first started.</p>
        <label>
          Access key
          <input name="accessKeyId" value={accessKeyId} onInput={(e) => setKey(e.currentTarget.value)} autoComplete="username" required spellcheck={false} ref={first} />
        </label>
        <label>
          Secret key
          <input name="secretAccessKey" type="password" value={secretAccessKey} onInput={(e) => setSecret(e.currentTarget.value)} autoComplete="current-password" required />
        </label>
        <ErrorNote error={error} />
        <button type="submit" class="btn-primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
