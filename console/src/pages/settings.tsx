/** A bucket's site settings as forms: website hosting, cache rules, CORS, custom domain. */
import { useEffect, useState } from 'preact/hooks';
import { api, seg } from '../api';
import { BucketTabs } from '../bucket-tabs';
import { CopyButton, ErrorNote, Loading, Note, useLoad } from '../components';
import type { BucketSettings, CacheRule } from '../types';

/** Browsers fetch web fonts with CORS: a site on another origin needs GET/HEAD allowed for it. */
const FONT_PRESET_METHODS = ['GET', 'HEAD'];
const YEAR = 'public, max-age=31536000, immutable';

export function SettingsPage({ bucket }: { bucket: string }) {
  const { data, error, loading, reload } = useLoad(() => api<BucketSettings>('GET', `buckets/${seg(bucket)}/settings`), [bucket]);
  return (
    <section aria-label={`Settings of ${bucket}`}>
      <BucketTabs bucket={bucket} current="settings" />
      <ErrorNote error={error} />
      {loading && !data ? <Loading what="Loading settings" /> : null}
      {data ? (
        <div class="grid2">
          <Website bucket={bucket} initial={data.website} onSaved={reload} />
          <CacheRules bucket={bucket} initial={data.cacheRules} />
          <Cors bucket={bucket} initial={data.cors} />
          <Domain domain={data.domain} />
        </div>
      ) : null}
    </section>
  );
}

function useSave(bucket: string, what: string) {
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = async (body: unknown) => {
    setError(null);
    setSaved(false);
    try {
      await api('PUT', `buckets/${seg(bucket)}/settings/${what}`, { body });
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  const status = (
    <>
      <ErrorNote error={error} />
      {saved ? <Note kind="ok">Saved.</Note> : null}
    </>
  );
  return { save, status };
}

function Website({ bucket, initial, onSaved }: { bucket: string; initial: BucketSettings['website']; onSaved: () => void }) {
  const [enabled, setEnabled] = useState(initial.enabled);
  const [indexDocument, setIndex] = useState(initial.indexDocument || 'index.html');
  const [errorDocument, setError] = useState(initial.errorDocument || '');
  const { save, status } = useSave(bucket, 'website');
  return (
    <form class="card stack" aria-labelledby="website-title" onSubmit={async (e) => { e.preventDefault(); await save({ enabled, indexDocument, errorDocument }); onSaved(); }}>
      <h2 id="website-title">Website hosting</h2>
      <p class="small muted">Serve this bucket as a website: a folder's address shows its index page, a missing page shows the error page.</p>
      <label class="check"><input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Host a website from this bucket</label>
      <label>Index page<input value={indexDocument} onInput={(e) => setIndex(e.currentTarget.value)} disabled={!enabled} /></label>
      <label>Error page (optional)<input value={errorDocument} onInput={(e) => setError(e.currentTarget.value)} disabled={!enabled} placeholder="404.html" /></label>
      <button type="submit">Save website settings</button>
      {status}
    </form>
  );
}

function CacheRules({ bucket, initial }: { bucket: string; initial: CacheRule[] }) {
  const [rules, setRules] = useState<CacheRule[]>(initial);
  const { save, status } = useSave(bucket, 'cache-rules');
  const update = (i: number, field: keyof CacheRule, value: string) => setRules(rules.map((r, n) => (n === i ? { ...r, [field]: value } : r)));
  return (
    <form class="card stack" aria-labelledby="cache-title" onSubmit={(e) => { e.preventDefault(); void save({ cacheRules: rules.filter((r) => r.match.trim()) }); }}>
      <h2 id="cache-title">Cache rules</h2>
      <p class="small muted">How long browsers and CDNs keep files, by type (<code>image/*</code>, or several: <code>image/*, video/*</code>) or by name with <code>key:</code> (<code>key:*.css</code>). First match wins; a Cache-Control stored on a file comes first.</p>
      {rules.length === 0 ? <p class="small muted">No rules: the server's defaults apply.</p> : null}
      {rules.map((r, i) => (
        <div class="rule" key={i}>
          <label>Files matching<input value={r.match} onInput={(e) => update(i, 'match', e.currentTarget.value)} placeholder="image/*" spellcheck={false} /></label>
          <label>Cache-Control<input value={r.cacheControl} onInput={(e) => update(i, 'cacheControl', e.currentTarget.value)} placeholder={YEAR} spellcheck={false} /></label>
          <button type="button" class="btn-small" onClick={() => setRules(rules.filter((_, n) => n !== i))} aria-label={`Remove rule ${r.match}`}>Remove</button>
        </div>
      ))}
      <div class="row">
        <button type="button" onClick={() => setRules([...rules, { match: '', cacheControl: YEAR }])}>Add a rule</button>
        <button type="button" onClick={() => setRules([...rules, { match: 'image/*', cacheControl: YEAR }, { match: 'font/*', cacheControl: YEAR }])}>Add “images and fonts for a year”</button>
      </div>
      <button type="submit">Save cache rules</button>
      {status}
    </form>
  );
}

function Cors({ bucket, initial }: { bucket: string; initial: BucketSettings['cors'] }) {
  const [origins, setOrigins] = useState(initial.origins.join('\n'));
  const [methods, setMethods] = useState<string[]>(initial.methods.length ? initial.methods : FONT_PRESET_METHODS);
  const { save, status } = useSave(bucket, 'cors');
  const [site, setSite] = useState('');
  const list = () => origins.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean);
  return (
    <form class="card stack" aria-labelledby="cors-title" onSubmit={(e) => { e.preventDefault(); void save({ origins: list(), methods }); }}>
      <h2 id="cors-title">CORS (other sites using these files)</h2>
      <p class="small muted">Browsers only let another site's pages load fonts, or fetch files from scripts, from origins listed here.</p>
      <div class="preset">
        <label>Your site's address<input value={site} onInput={(e) => setSite(e.currentTarget.value)} placeholder="https://www.example.com" spellcheck={false} /></label>
        <button type="button" onClick={() => {
          const origin = safeOrigin(site);
          if (!origin) return;
          setOrigins([...new Set([...list(), origin])].join('\n'));
          setMethods(FONT_PRESET_METHODS);
        }}>Allow my site's fonts</button>
      </div>
      <label><span>Allowed origins (one a line, <code>*</code> for any)</span><textarea rows={3} value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} spellcheck={false} /></label>
      <fieldset class="choice">
        <legend>Allowed methods</legend>
        {['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].map((m) => (
          <label class="check" key={m}><input type="checkbox" checked={methods.includes(m)} onChange={(e) => setMethods(e.currentTarget.checked ? [...methods, m] : methods.filter((x) => x !== m))} /> {m}</label>
        ))}
      </fieldset>
      <button type="submit">Save CORS</button>
      {status}
    </form>
  );
}

function safeOrigin(text: string): string | null {
  try {
    const url = new URL(text.includes('://') ? text : `https://${text}`);
    return url.origin;
  } catch {
    return null;
  }
}

function Domain({ domain }: { domain: BucketSettings['domain'] }) {
  const [shown, setShown] = useState(domain);
  useEffect(() => setShown(domain), [domain]);
  return (
    <div class="card stack" aria-labelledby="domain-title">
      <h2 id="domain-title">Custom domain</h2>
      {shown.cname ? (
        <p class="small muted">To serve these files as <strong>{shown.cname}</strong>, create this DNS record at your domain's DNS provider.</p>
      ) : null}
      {shown.cname ? <div class="row"><code class="record break">{shown.record}</code><CopyButton text={shown.record} label="Copy DNS record" /></div> : null}
      {shown.cname ? <p class="small muted">Type: CNAME · Name: {shown.cname} · Target: {shown.record.trim().split(/\s+/).pop()}</p> : null}
      {shown.note ? <p class="small muted">{shown.note}</p> : null}
    </div>
  );
}
