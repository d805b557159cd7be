/** Access keys (root only): list, create with a bucket scope and access level, delete. */
import { useState } from 'preact/hooks';
import { api, seg } from '../api';
import { CopyButton, ErrorNote, Loading, Note, useLoad } from '../components';
import { formatDate } from '../format';
import type { AccessKey, Bucket, KeyAccess, NewKey, Session } from '../types';

const ACCESS_WORDS: Record<KeyAccess, string> = { read: 'Read only', readwrite: 'Read and write', all: 'Everything' };

export function KeysPage({ session }: { session: Session }) {
  const keys = useLoad(() => api<{ keys: AccessKey[] }>('GET', 'keys'), []);
  const buckets = useLoad(() => api<{ buckets: Bucket[] }>('GET', 'buckets'), []);
  const [created, setCreated] = useState<NewKey | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const remove = async (k: AccessKey) => {
    if (!confirm(`Delete the key ${k.name || k.accessKeyId}? Anything using it stops working.`)) return;
    setActionError(null);
    try {
      await api('DELETE', `keys/${seg(k.accessKeyId)}`);
      keys.reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <section aria-labelledby="keys-title">
      <div class="page-head"><h1 id="keys-title">Access keys</h1></div>
      {!session.isRoot ? <Note kind="warn">Only the root key can manage keys.</Note> : null}
      <CreateKey buckets={buckets.data?.buckets ?? []} onCreated={(k) => { setCreated(k); keys.reload(); }} />
      {created ? (
        <div class="card secret" role="status">
          <h2>Key created: save the secret now</h2>
          <p>This is the only time the secret is shown. Store it somewhere safe, such as a password manager.</p>
          <dl class="facts">
            <dt>Access key</dt><dd class="row"><code class="break">{created.accessKeyId}</code><CopyButton text={created.accessKeyId} label="Copy access key" /></dd>
            <dt>Secret key</dt><dd class="row"><code class="break" data-testid="new-secret">{created.secretAccessKey}</code><CopyButton text={created.secretAccessKey} label="Copy secret key" /></dd>
          </dl>
          <button type="button" onClick={() => setCreated(null)}>I saved it, hide the secret</button>
        </div>
      ) : null}
      <ErrorNote error={actionError} />
      <ErrorNote error={keys.error} />
      {keys.loading && !keys.data ? <Loading what="Loading keys" /> : null}
      {keys.data ? (
        <div class="table-wrap">
          <table class="list stacked">
            <thead><tr><th scope="col">Name</th><th scope="col">Access key</th><th scope="col">Bucket</th><th scope="col">Access</th><th scope="col" class="hide-phone">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {keys.data.keys.map((k) => (
                <tr key={k.accessKeyId}>
                  <td>{k.name || '-'}</td>
                  <td class="mono small break">{k.accessKeyId}</td>
                  <td>{k.scope.bucket ?? 'All buckets'}</td>
                  <td>{ACCESS_WORDS[k.scope.access] ?? k.scope.access}</td>
                  <td class="hide-phone small muted">{formatDate(k.created)}</td>
                  <td class="actions">
                    {k.accessKeyId === session.accessKeyId ? <span class="small muted">(this session)</span> : (
                      <button type="button" class="btn-small btn-danger" onClick={() => remove(k)} aria-label={`Delete key ${k.name || k.accessKeyId}`}>Delete</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function CreateKey({ buckets, onCreated }: { buckets: Bucket[]; onCreated: (k: NewKey) => void }) {
  const [name, setName] = useState('');
  const [bucket, setBucket] = useState('');
  const [access, setAccess] = useState<KeyAccess>('read');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      onCreated(await api<NewKey>('POST', 'keys', { body: { name: name.trim(), bucket: bucket || undefined, access } }));
      setName('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card inline-form" onSubmit={submit} aria-label="Create a key">
      <label>Name<input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="website deploys" required /></label>
      <label>
        Bucket
        <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value)}>
          <option value="">All buckets</option>
          {buckets.map((b) => <option key={b.name} value={b.name}>{b.name}</option>)}
        </select>
      </label>
      <label>
        Access level
        <select aria-label="Access level" value={access} onChange={(e) => setAccess(e.currentTarget.value as KeyAccess)}>
          <option value="read">Read only</option>
          <option value="readwrite">Read and write</option>
        </select>
      </label>
      <button type="submit" class="btn-primary">Create key</button>
      <ErrorNote error={error} />
    </form>
  );
}
