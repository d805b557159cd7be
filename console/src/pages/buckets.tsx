/** Buckets: list with size, count and public state; create; delete; public/private toggle. */
import { useState } from 'preact/hooks';
import { api, seg } from '../api';
import { ErrorNote, Loading, Note, TypedConfirm, useLoad } from '../components';
import { formatBytes, formatCount, formatDate } from '../format';
import { href } from '../router';
import type { Bucket } from '../types';

export const PUBLIC_WARNING =
  'Public means anyone on the internet who has or guesses a file\'s address can download it, without signing in. Only make a bucket public if everything in it is meant for your site\'s visitors.';

export function BucketsPage() {
  const { data, error, loading, reload } = useLoad(() => api<{ buckets: Bucket[] }>('GET', 'buckets'), []);
  const [actionError, setActionError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState<{ bucket: Bucket; kind: 'delete' | 'public' } | null>(null);
  const [done, setDone] = useState('');

  const run = async (what: () => Promise<unknown>, message: string) => {
    setActionError(null);
    setDone('');
    try {
      await what();
      setDone(message);
      setConfirming(null);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  const remove = (b: Bucket) =>
    b.objects > 0
      ? run(() => api('DELETE', `buckets/${seg(b.name)}`, { query: { empty: 1 }, body: { confirm: b.name } }), `Deleted ${b.name} and everything in it.`)
      : run(() => api('DELETE', `buckets/${seg(b.name)}`), `Deleted ${b.name}.`);

  const setPublic = (b: Bucket, pub: boolean) =>
    run(() => api('PUT', `buckets/${seg(b.name)}/public`, { body: { public: pub } }), `${b.name} is now ${pub ? 'public' : 'private'}.`);

  return (
    <section aria-labelledby="buckets-title">
      <div class="page-head">
        <h1 id="buckets-title">Buckets</h1>
      </div>
      <CreateBucket onCreated={(name) => { setDone(`Created ${name}.`); reload(); }} />
      {done ? <Note kind="ok">{done}</Note> : null}
      <ErrorNote error={actionError} />
      <ErrorNote error={error} />
      {loading && !data ? <Loading what="Loading buckets" /> : null}
      {confirming?.kind === 'delete' ? (
        <TypedConfirm
          word={confirming.bucket.name}
          action={`Delete ${confirming.bucket.name} and its ${formatCount(confirming.bucket.objects)} files`}
          warning={`This bucket is not empty. Deleting it removes all ${formatCount(confirming.bucket.objects)} files in it (${formatBytes(confirming.bucket.bytes)}) for good.`}
          onConfirm={() => remove(confirming.bucket)}
          onCancel={() => setConfirming(null)}
        />
      ) : null}
      {confirming?.kind === 'public' ? (
        <div class="confirm" role="alertdialog" aria-label={`Make ${confirming.bucket.name} public`}>
          <p><strong>Make {confirming.bucket.name} public?</strong> {PUBLIC_WARNING}</p>
          <div class="row">
            <button type="button" class="btn-primary" onClick={() => setPublic(confirming.bucket, true)}>Make public</button>
            <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
          </div>
        </div>
      ) : null}
      {data && data.buckets.length === 0 ? <Note>No buckets yet. Create one above to start uploading.</Note> : null}
      {data && data.buckets.length > 0 ? (
        <div class="table-wrap">
          <table class="list stacked">
            <thead>
              <tr><th scope="col">Name</th><th scope="col" class="num">Files</th><th scope="col" class="num">Size</th><th scope="col">Access</th><th scope="col" class="hide-phone">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {data.buckets.map((b) => (
                <tr key={b.name}>
                  <td><a href={href(['b', b.name])} class="strong">{b.name}</a>{b.website ? <span class="badge badge-site">website</span> : null}</td>
                  <td class="num">{formatCount(b.objects)}<span class="phone-only"> files</span></td>
                  <td class="num">{formatBytes(b.bytes)}</td>
                  <td><span class={`badge ${b.public ? 'badge-public' : 'badge-private'}`}>{b.public ? 'Public' : 'Private'}</span></td>
                  <td class="hide-phone small muted">{formatDate(b.created)}</td>
                  <td class="actions">
                    <a class="btn btn-small" href={href(['b', b.name, 'upload'])}>Upload</a>
                    <a class="btn btn-small" href={href(['b', b.name, 'settings'])}>Settings</a>
                    {b.public ? (
                      <button type="button" class="btn-small" onClick={() => setPublic(b, false)}>Make private</button>
                    ) : (
                      <button type="button" class="btn-small" onClick={() => setConfirming({ bucket: b, kind: 'public' })}>Make public</button>
                    )}
                    <button type="button" class="btn-small btn-danger" onClick={() => (b.objects > 0 ? setConfirming({ bucket: b, kind: 'delete' }) : remove(b))} aria-label={`Delete bucket ${b.name}`}>Delete</button>
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

function CreateBucket({ onCreated }: { onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [pub, setPub] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', 'buckets', { body: { name: name.trim(), public: pub } });
      onCreated(name.trim());
      setName('');
      setPub(false);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card inline-form" onSubmit={submit} aria-label="Create a bucket">
      <label>
        New bucket name
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="media" required pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]" title="3 to 63 characters: lower-case letters, digits, dots and dashes" spellcheck={false} />
      </label>
      <label class="check">
        <input type="checkbox" checked={pub} onChange={(e) => setPub(e.currentTarget.checked)} />
        Public (anyone can read its files)
      </label>
      <button type="submit" class="btn-primary">Create bucket</button>
      <ErrorNote error={error} />
    </form>
  );
}
