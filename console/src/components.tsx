/** Small shared pieces: messages, the copy button, loading state, the typed confirmation. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

/** An error as a visible message; a 403 says plainly that this key is not allowed. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const notAllowed = error instanceof ApiError && error.notAllowed;
  const text = error instanceof Error ? error.message : String(error);
  return (
    <div class={`note ${notAllowed ? 'note-denied' : 'note-error'}`} role="alert">
      {notAllowed ? <strong>Not allowed. </strong> : null}
      {notAllowed ? text.replace(/^Not allowed:?\s*/i, '') : text}
      {notAllowed ? <div class="small">This access key does not have permission for this. Ask whoever manages the server for a key that does.</div> : null}
    </div>
  );
}

export function Note({ kind = 'info', children }: { kind?: 'info' | 'ok' | 'warn'; children: ComponentChildren }) {
  return <div class={`note note-${kind}`} role={kind === 'warn' ? 'alert' : 'status'}>{children}</div>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p class="muted" aria-live="polite">{what}…</p>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      // Clipboard refused (no permission, plain http): select the text for a manual copy instead.
      prompt('Copy this:', text);
    }
  };
  return (
    <button type="button" class="btn-small" onClick={copy} aria-label={`${label}: ${text}`}>
      {copied ? 'Copied' : label}
    </button>
  );
}

/** A dialog that asks the person to type a word (a bucket name) before a destructive action. */
export function TypedConfirm(props: { word: string; action: string; warning: string; onConfirm: () => void; onCancel: () => void }) {
  const [typed, setTyped] = useState('');
  return (
    <div class="confirm" role="alertdialog" aria-label={props.action}>
      <p>{props.warning}</p>
      <label>
        Type <code>{props.word}</code> to confirm
        <input value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoFocus autoComplete="off" />
      </label>
      <div class="row">
        <button type="button" class="btn-danger" disabled={typed !== props.word} onClick={props.onConfirm}>
          {props.action}
        </button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </div>
  );
}

/** Runs an async loader and keeps its value, error and a reload function. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
