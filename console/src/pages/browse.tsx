/**
 * Browse a bucket: folders by prefix, one page of keys at a time (a 100,000-key bucket is never
 * loaded whole), prefix search, sort, multi-select delete, and the details panel.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, seg } from '../api';
import { BucketTabs } from '../bucket-tabs';
import { ErrorNote, Loading, Note, useLoad } from '../components';
import { formatBytes, formatDate } from '../format';
import { href, navigate } from '../router';
import type { Listing } from '../types';
import { ObjectPanel } from './object-panel';

const PAGE_SIZE = 100;

export function BrowsePage({ bucket, query }: { bucket: string; query: URLSearchParams }) {
  const prefix = query.get('prefix') ?? '';
  const selectedKey = query.get('key') ?? '';
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<'name' | 'size' | 'date'>('name');
  const [order, setOrder] = useState<'asc' | 'desc'>('asc');
  // Tokens of the pages before this one, so "Previous" works without loading everything.
  const [tokens, setTokens] = useState<string[]>([]);
  const after = tokens[tokens.length - 1];
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);

  useEffect(() => {
    setTokens([]);
    setChecked(new Set());
    setSearch('');
    setMessage('');
    setActionError(null);
  }, [bucket, prefix]);

  const listPrefix = prefix + search;
  const { data, error, loading, reload } = useLoad(
    () => api<Listing>('GET', `buckets/${seg(bucket)}/objects`, { query: { prefix: listPrefix, delimiter: '/', after, limit: PAGE_SIZE, sort, order } }),
    [bucket, listPrefix, after, sort, order],
  );

  const go = (p: string, key?: string) => navigate(['b', bucket], { prefix: p || undefined, key });
  const toggle = (key: string) => {
    const next = new Set(checked);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setChecked(next);
  };
  const allKeys = data?.objects.map((o) => o.key) ?? [];
  const allChecked = allKeys.length > 0 && allKeys.every((k) => checked.has(k));

  const deleteChecked = async () => {
    const keys = [...checked];
    if (!confirm(`Delete ${keys.length} file${keys.length === 1 ? '' : 's'}? This cannot be undone.`)) return;
    setActionError(null);
    try {
      const res = await api<{ deleted: string[]; errors: { key: string; message: string }[] }>('POST', `buckets/${seg(bucket)}/delete`, { body: { keys } });
      setMessage(`Deleted ${res.deleted.length} file${res.deleted.length === 1 ? '' : 's'}.`);
      if (res.errors.length) setActionError(new Error(`Not deleted: ${res.errors.map((e) => `${e.key} (${e.message})`).join(', ')}`));
      setChecked(new Set());
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  const crumbs = prefix.split('/').filter(Boolean);
  return (
    <section aria-label={`Files in ${bucket}`}>
      <BucketTabs bucket={bucket} current="files" />
      <nav class="crumbs" aria-label="Folder">
        <a href={href(['b', bucket])}>{bucket}</a>
        {crumbs.map((c, i) => (
          <span key={i}> / <a href={href(['b', bucket], { prefix: crumbs.slice(0, i + 1).join('/') + '/' })}>{c}</a></span>
        ))}
      </nav>
      <div class="toolbar">
        <label>
          Search by name start
          <input type="search" value={search} onInput={(e) => { setTokens([]); setSearch(e.currentTarget.value); }} placeholder={prefix ? `${prefix}…` : 'e.g. img/'} spellcheck={false} />
        </label>
        <label>
          Sort by
          <select value={sort} onChange={(e) => { setTokens([]); setSort(e.currentTarget.value as typeof sort); }}>
            <option value="name">Name</option>
            <option value="size">Size</option>
            <option value="date">Date</option>
          </select>
        </label>
        <label>
          Order
          <select value={order} onChange={(e) => { setTokens([]); setOrder(e.currentTarget.value as typeof order); }}>
            <option value="asc">Ascending</option>
            <option value="desc">Descending</option>
          </select>
        </label>
        <a class="btn btn-primary" href={href(['b', bucket, 'upload'], { prefix: prefix || undefined })}>Upload here</a>
        <button type="button" class="btn-danger" disabled={checked.size === 0} onClick={deleteChecked}>Delete selected ({checked.size})</button>
      </div>
      {sort !== 'name' ? <p class="small muted">Sorting by {sort} orders the files on this page only; pages follow name order.</p> : null}
      {message ? <Note kind="ok">{message}</Note> : null}
      <ErrorNote error={actionError} />
      <ErrorNote error={error} />
      <div class="browse">
        <div class="browse-list">
          {loading && !data ? <Loading what="Loading files" /> : null}
          {data ? (
            <div class="table-wrap">
              <table class="list">
                <thead>
                  <tr>
                    <th scope="col" class="narrow"><input type="checkbox" aria-label="Select all files on this page" checked={allChecked} onChange={() => setChecked(allChecked ? new Set() : new Set(allKeys))} /></th>
                    <th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col" class="hide-phone">Modified</th>
                  </tr>
                </thead>
                <tbody>
                  {prefix ? (
                    <tr><td /><td colSpan={3}><a href={href(['b', bucket], { prefix: crumbs.slice(0, -1).map((c) => c + '/').join('') || undefined })}>.. (up one folder)</a></td></tr>
                  ) : null}
                  {data.folders.map((f) => (
                    <tr key={f}><td /><td colSpan={3}><a href={href(['b', bucket], { prefix: f })} class="folder">{f.slice(prefix.length)}</a></td></tr>
                  ))}
                  {data.objects.map((o) => (
                    <tr key={o.key} class={o.key === selectedKey ? 'selected' : undefined}>
                      <td class="narrow"><input type="checkbox" aria-label={`Select ${o.key}`} checked={checked.has(o.key)} onChange={() => toggle(o.key)} /></td>
                      <td class="name"><a href={href(['b', bucket], { prefix: prefix || undefined, key: o.key })} class="file">{o.key.slice(prefix.length)}</a></td>
                      <td class="num">{formatBytes(o.size)}</td>
                      <td class="hide-phone small muted">{formatDate(o.lastModified)}</td>
                    </tr>
                  ))}
                  {data.folders.length === 0 && data.objects.length === 0 ? (
                    <tr><td /><td colSpan={3} class="muted">{search ? 'No file names start with that.' : 'This folder is empty.'}</td></tr>
                  ) : null}
                </tbody>
              </table>
            </div>
          ) : null}
          <div class="row pager">
            <button type="button" disabled={tokens.length === 0} onClick={() => setTokens(tokens.slice(0, -1))}>Previous page</button>
            <button type="button" disabled={!data?.next} onClick={() => data?.next && setTokens([...tokens, data.next])}>Next page</button>
          </div>
        </div>
        {selectedKey ? (
          <ObjectPanel bucket={bucket} objectKey={selectedKey} onClose={() => go(prefix)} onChanged={(msg, to) => { setMessage(msg); reload(); go(prefix, to); }} />
        ) : null}
      </div>
    </section>
  );
}
