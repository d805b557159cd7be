/**
 * The console's entry: checks the session, then shows sign-in or the page the hash names.
 */
import './styles.css';
import 'uplot/dist/uPlot.min.css';
import { Component, type ComponentChildren, render } from 'preact';
import { lazy, Suspense } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, whenSignedOut } from './api';
import { Loading } from './components';
import { href, navigate, useRoute } from './router';
import type { Session } from './types';
import { SignIn } from './pages/signin';
import { BucketsPage } from './pages/buckets';
import { BrowsePage } from './pages/browse';
import { UploadPage } from './pages/upload';
import { SettingsPage } from './pages/settings';
import { KeysPage } from './pages/keys';

// uPlot and the usage page load on first use: the other pages do not pay for the charts.
const UsagePage = lazy(() => import('./pages/usage').then((m) => m.UsagePage));

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();

  useEffect(() => {
    whenSignedOut(() => setSession(null));
    api<Session>('GET', 'session', { quiet401: true }).then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
      },
      () => setSession(null),
    );
  }, []);

  if (session === undefined) return <main class="center"><Loading /></main>;
  if (session === null) {
    return (
      <SignIn
        onSignedIn={(s) => {
          setCsrfToken(s.csrfToken);
          setSession(s);
          if (!location.hash || location.hash === '#/') navigate(['buckets']);
        }}
      />
    );
  }

  const signOut = async () => {
    try {
      await api('DELETE', 'session');
    } finally {
      setCsrfToken(null);
      setSession(null);
      navigate([]);
    }
  };

  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={href(['buckets'])}>Offload</a>
        <nav aria-label="Main">
          <a href={href(['buckets'])} aria-current={route.path[0] === 'buckets' || route.path[0] === 'b' || !route.path[0] ? 'page' : undefined}>Buckets</a>
          <a href={href(['usage'])} aria-current={route.path[0] === 'usage' ? 'page' : undefined}>Usage</a>
          {session.isRoot ? <a href={href(['keys'])} aria-current={route.path[0] === 'keys' ? 'page' : undefined}>Keys</a> : null}
        </nav>
        <div class="who">
          <span class="muted small" title="Signed in as">{session.displayName || session.accessKeyId}{scopeWords(session)}</span>
          <button type="button" class="btn-small" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <main id="main">
        <PageGuard path={route.path.join('/')}>
          <Page session={session} />
        </PageGuard>
      </main>
    </div>
  );
}

/** A bug in one page shows a message and a way back, never a blank screen. */
class PageGuard extends Component<{ children: ComponentChildren; path: string }, { failed?: string }> {
  override state: { failed?: string } = {};
  override componentDidCatch(err: unknown) {
    this.setState({ failed: err instanceof Error ? err.message : String(err) });
  }
  override componentDidUpdate(prev: { path: string }) {
    if (prev.path !== this.props.path && this.state.failed) this.setState({ failed: undefined });
  }
  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div class="note note-error" role="alert">
        This page ran into a problem: {this.state.failed}. <a href={href(['buckets'])}>Back to the buckets</a>
      </div>
    );
  }
}

/** What a non-root key may do, in a few words beside its name. */
function scopeWords(session: Session): string {
  if (session.isRoot || !session.scope) return '';
  const access = session.scope.access === 'read' ? 'read only' : session.scope.access === 'readwrite' ? 'read and write' : '';
  return [access, session.scope.bucket].filter(Boolean).map((w) => ` · ${w}`).join('');
}

function Page({ session }: { session: Session }) {
  const route = useRoute();
  const [top, bucket, sub] = route.path;
  if (top === 'b' && bucket) {
    if (sub === 'upload') return <UploadPage bucket={bucket} prefix={route.query.get('prefix') ?? ''} />;
    if (sub === 'settings') return <SettingsPage bucket={bucket} />;
    return <BrowsePage bucket={bucket} query={route.query} />;
  }
  if (top === 'keys') return <KeysPage session={session} />;
  if (top === 'usage') return <Suspense fallback={<Loading what="Loading usage" />}><UsagePage bucket={route.query.get('bucket') ?? ''} isRoot={session.isRoot} /></Suspense>;
  return <BucketsPage />;
}

render(<App />, document.getElementById('app')!);
