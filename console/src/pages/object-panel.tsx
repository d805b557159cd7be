/** One object's details: facts, URLs, preview, download, and edits (type, caching, public, rename). */
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, apiUrl, seg } from '../api';
import { CopyButton, ErrorNote, Loading, useLoad } from '../components';
import { formatBytes, formatDate } from '../format';
import type { ObjectDetails } from '../types';

const TEXT_PREVIEW_LIMIT = 200 * 1024;
/** Headers the facts above already show. */
const SHOWN = new Set(['content-type', 'etag', 'last-modified', 'content-length', 'cache-control']);
const CACHE_FROM = { object: 'stored on the file', rule: "from the bucket's cache rules", default: "the server's default" } as const;

interface Props {
  bucket: string;
  objectKey: string;
  onClose: () => void;
  /** After an edit: a message, and the key to show next (a rename moves it). */
  onChanged: (message: string, key?: string) => void;
}

export function ObjectPanel({ bucket, objectKey, onClose, onChanged }: Props) {
  const { data, error, loading, reload } = useLoad(() => api<ObjectDetails>('GET', `buckets/${seg(bucket)}/object`, { query: { key: objectKey } }), [bucket, objectKey]);
  const [actionError, setActionError] = useState<unknown>(null);
  const downloadUrl = apiUrl(`buckets/${seg(bucket)}/download`, { key: objectKey });

  const patch = async (body: Partial<Pick<ObjectDetails, 'contentType' | 'cacheControl' | 'public'>>, message: string) => {
    setActionError(null);
    try {
      await api('PATCH', `buckets/${seg(bucket)}/object`, { query: { key: objectKey }, body });
      reload();
      onChanged(message, objectKey);
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <aside class="panel" aria-label={`Details of ${objectKey}`}>
      <div class="panel-head">
        <h2 class="break">{objectKey.split('/').pop() || objectKey}</h2>
        <button type="button" class="btn-small" onClick={onClose} aria-label="Close details">Close</button>
      </div>
      <ErrorNote error={error} />
      <ErrorNote error={actionError} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <Preview url={apiUrl(`buckets/${seg(bucket)}/download`, { key: objectKey, inline: 1 })} type={data.contentType ?? ''} size={data.size} />
          <dl class="facts">
            <dt>Key</dt><dd class="break">{data.key}</dd>
            <dt>Size</dt><dd>{formatBytes(data.size)} ({data.size.toLocaleString()} bytes)</dd>
            <dt>Type</dt><dd>{data.contentType || '-'}</dd>
            <dt>ETag</dt><dd class="break mono">{data.etag}</dd>
            <dt>Modified</dt><dd>{formatDate(data.lastModified)}</dd>
            <dt>Cache-Control</dt><dd>{data.cacheControl || '-'}{data.cacheControlFrom ? <span class="small muted"> ({CACHE_FROM[data.cacheControlFrom]})</span> : null}</dd>
            <dt>Access</dt><dd><span class={`badge ${data.public ? 'badge-public' : 'badge-private'}`}>{data.public ? 'Public' : 'Private'}</span></dd>
            {Object.entries(data.headers ?? {}).filter(([k]) => !SHOWN.has(k.toLowerCase())).map(([k, v]) => (
              <Fragment key={`h-${k}`}><dt class="mono">{k}</dt><dd class="break">{v}</dd></Fragment>
            ))}
            {Object.entries(data.metadata ?? {}).map(([k, v]) => (
              <Fragment key={`m-${k}`}><dt class="mono">x-amz-meta-{k}</dt><dd class="break">{v}</dd></Fragment>
            ))}
          </dl>
          <UrlRow label="Public URL" url={data.publicUrl} note={data.public ? undefined : 'Works only once the file or bucket is public.'} />
          {data.websiteUrl ? <UrlRow label="Website URL" url={data.websiteUrl} /> : null}
          <div class="row">
            <a class="btn" href={downloadUrl} download>Download</a>
            {data.public ? (
              <button type="button" onClick={() => patch({ public: false }, `${objectKey} is now private.`)}>Make private</button>
            ) : (
              <button type="button" onClick={() => patch({ public: true }, `${objectKey} is now public: anyone with its URL can download it.`)}>Make public</button>
            )}
          </div>
          <EditHeaders details={data} onSave={(body) => patch(body, 'Saved.')} />
          <Rename bucket={bucket} from={objectKey} onRenamed={(to) => onChanged(`Moved to ${to}.`, to)} onError={setActionError} />
        </>
      ) : null}
    </aside>
  );
}

function UrlRow({ label, url, note }: { label: string; url: string; note?: string }) {
  return (
    <div class="url-row">
      <div class="small muted">{label}</div>
      <div class="row"><a href={url} target="_blank" rel="noopener noreferrer" class="break mono small">{url}</a><CopyButton text={url} label={`Copy ${label.toLowerCase()}`} /></div>
      {note ? <div class="small muted">{note}</div> : null}
    </div>
  );
}

function Preview({ url, type, size }: { url: string; type: string; size: number }) {
  const [text, setText] = useState<string | null>(null);
  const isText = /^text\/|json|xml|javascript/.test(type);
  useEffect(() => {
    setText(null);
    if (!isText || size > TEXT_PREVIEW_LIMIT) return;
    let live = true;
    fetch(url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then((t) => live && setText(t), () => live && setText('(preview not available)'));
    return () => { live = false; };
  }, [url, isText, size]);
  if (type.startsWith('image/')) return <div class="preview"><img src={url} alt="Preview" /></div>;
  if (type.startsWith('video/')) return <div class="preview"><video src={url} controls preload="metadata" /></div>;
  if (type.startsWith('audio/')) return <div class="preview"><audio src={url} controls preload="metadata" /></div>;
  if (isText) return <div class="preview"><pre class="text-preview">{size > TEXT_PREVIEW_LIMIT ? '(too large to preview; download it instead)' : text ?? 'Loading…'}</pre></div>;
  return null;
}

function EditHeaders({ details, onSave }: { details: ObjectDetails; onSave: (b: { contentType: string; cacheControl: string }) => void }) {
  // Only a Cache-Control stored on the file is its own to edit; one from a rule or the default is not
  // copied into the field, or saving the type would pin the rule's value onto the file.
  const stored = (d: ObjectDetails) => (d.cacheControlFrom && d.cacheControlFrom !== 'object' ? '' : d.cacheControl ?? '');
  const [contentType, setType] = useState(details.contentType ?? '');
  const [cacheControl, setCache] = useState(stored(details));
  useEffect(() => { setType(details.contentType ?? ''); setCache(stored(details)); }, [details]);
  return (
    <form class="stack" onSubmit={(e) => { e.preventDefault(); onSave({ contentType: contentType.trim(), cacheControl: cacheControl.trim() }); }} aria-label="Edit headers">
      <h3>Headers</h3>
      <label>Content-Type<input value={contentType} onInput={(e) => setType(e.currentTarget.value)} spellcheck={false} /></label>
      <label>Cache-Control<input value={cacheControl} onInput={(e) => setCache(e.currentTarget.value)} placeholder={details.cacheControlFrom && details.cacheControlFrom !== 'object' ? `(none stored: ${details.cacheControl ?? 'default'} applies)` : 'public, max-age=31536000, immutable'} spellcheck={false} /></label>
      <button type="submit">Save headers</button>
    </form>
  );
}

function Rename({ bucket, from, onRenamed, onError }: { bucket: string; from: string; onRenamed: (to: string) => void; onError: (e: unknown) => void }) {
  const [to, setTo] = useState(from);
  useEffect(() => setTo(from), [from]);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!to.trim() || to === from) return;
    try {
      await api('POST', `buckets/${seg(bucket)}/rename`, { body: { from, to: to.trim() } });
      onRenamed(to.trim());
    } catch (err) {
      onError(err);
    }
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="Rename or move">
      <h3>Rename or move</h3>
      <label>New key (use / for folders)<input value={to} onInput={(e) => setTo(e.currentTarget.value)} spellcheck={false} /></label>
      <button type="submit" disabled={to === from}>Rename</button>
    </form>
  );
}
