/** The prices the cost estimate uses, editable (saved on the server for everyone). */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNote, Note } from '../components';
import type { Prices } from '../types';

const FIELDS: { key: Exclude<keyof Prices, 'currency'>; label: string }[] = [
  { key: 'storagePerGbMonth', label: 'Storage, per GB per month' },
  { key: 'egressPerGb', label: 'Downloads, per GB' },
  { key: 'requestsPer1000Get', label: 'Reads, per 1,000 requests' },
  { key: 'requestsPer1000Put', label: 'Writes, per 1,000 requests' },
];

export function PricesForm({ initial, onSaved }: { initial: Prices; onSaved: () => void }) {
  const [prices, setPrices] = useState<Record<string, string>>(() => Object.fromEntries(FIELDS.map((f) => [f.key, String(initial[f.key])])));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const numbers = Object.fromEntries(FIELDS.map((f) => [f.key, Number(prices[f.key])]));
    const body = { ...numbers, currency: initial.currency };
    if (Object.values(numbers).some((v) => !Number.isFinite(v) || v < 0)) {
      setError(new Error('Prices must be numbers, zero or more.'));
      return;
    }
    try {
      await api('PUT', 'prices', { body });
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="prices-title">
      <h2 id="prices-title">Prices{initial.currency ? ` (${initial.currency})` : ''}</h2>
      {FIELDS.map((f) => (
        <label key={f.key}>
          {f.label}
          <input type="number" min="0" step="any" inputMode="decimal" value={prices[f.key]} onInput={(e) => setPrices({ ...prices, [f.key]: e.currentTarget.value })} />
        </label>
      ))}
      <button type="submit">Save prices</button>
      <ErrorNote error={error} />
      {saved ? <Note kind="ok">Saved.</Note> : null}
    </form>
  );
}
