/**
 * Usage from the server's stats: requests and bytes over time (uPlot), status classes, top files,
 * top referrers, and the monthly cost estimate at prices the person can edit.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { type ChartSeries, TimeChart } from '../chart';
import { ErrorNote, Loading, Note, useLoad } from '../components';
import { formatBytes, formatCount, formatMoney } from '../format';
import { navigate } from '../router';
import type { Bucket, Prices, Stats, TopFile } from '../types';
import { PricesForm } from './prices';

const RANGE_MS = { hour: 48 * 3600_000, day: 30 * 86400_000 } as const;

export function UsagePage({ bucket, isRoot }: { bucket: string; isRoot: boolean }) {
  const [period, setPeriod] = useState<'hour' | 'day'>('hour');
  const buckets = useLoad(() => api<{ buckets: Bucket[] }>('GET', 'buckets'), []);
  const [tick, setTick] = useState(0);
  // All buckets together is root's view; another key starts on its first bucket.
  const first = buckets.data?.buckets[0]?.name;
  useEffect(() => {
    if (!isRoot && !bucket && first) navigate(['usage'], { bucket: first });
  }, [isRoot, bucket, first]);
  const stats = useLoad(() => {
    if (!isRoot && !bucket) return new Promise<Stats>(() => {}); // waits for the redirect above
    const to = new Date();
    const from = new Date(to.getTime() - RANGE_MS[period]);
    return api<Stats>('GET', 'stats', { query: { bucket, period, from: from.toISOString(), to: to.toISOString() } });
  }, [bucket, period, tick, isRoot]);
  const prices = useLoad(() => api<Prices>('GET', 'prices'), []);

  return (
    <section aria-labelledby="usage-title">
      <div class="page-head">
        <h1 id="usage-title">Usage</h1>
        <div class="toolbar">
          <label>
            Bucket
            <select value={bucket} onChange={(e) => navigate(['usage'], { bucket: e.currentTarget.value || undefined })}>
              {isRoot ? <option value="">All buckets</option> : null}
              {(buckets.data?.buckets ?? []).map((b) => <option key={b.name} value={b.name}>{b.name}</option>)}
            </select>
          </label>
          <label>
            Per
            <select value={period} onChange={(e) => setPeriod(e.currentTarget.value as 'hour' | 'day')}>
              <option value="hour">Hour (last 48 hours)</option>
              <option value="day">Day (last 30 days)</option>
            </select>
          </label>
          <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
        </div>
      </div>
      <ErrorNote error={stats.error} />
      {stats.loading && !stats.data ? <Loading what="Loading usage" /> : null}
      {stats.data ? <StatsView stats={stats.data} /> : null}
      <div class="grid2">
        {stats.data?.costEstimate ? (
          <div class="card stack" aria-labelledby="cost-title">
            <h2 id="cost-title">Monthly cost estimate</h2>
            <p class="small muted">What this traffic and storage would cost per month at the prices on the right (for comparing with a hosted service).</p>
            <dl class="facts">
              <dt>Storage ({formatBytes(stats.data.storageBytes)})</dt><dd>{formatMoney(stats.data.costEstimate.storage, stats.data.costEstimate.currency)}</dd>
              <dt>Downloads</dt><dd>{formatMoney(stats.data.costEstimate.egress, stats.data.costEstimate.currency)}</dd>
              <dt>Requests</dt><dd>{formatMoney(stats.data.costEstimate.requests, stats.data.costEstimate.currency)}</dd>
              <dt class="strong">Total</dt><dd class="strong" data-testid="cost-total">{formatMoney(stats.data.costEstimate.total, stats.data.costEstimate.currency)}</dd>
            </dl>
          </div>
        ) : null}
        {prices.data ? <PricesForm initial={prices.data} onSaved={() => setTick((t) => t + 1)} /> : <ErrorNote error={prices.error} />}
      </div>
    </section>
  );
}

function StatsView({ stats }: { stats: Stats }) {
  const charts = useMemo(() => {
    const times = stats.series.map((p) => Math.floor(new Date(p.t).getTime() / 1000));
    const requests: ChartSeries[] = [{ label: 'Requests', values: stats.series.map((p) => p.requests), color: '#2563eb', format: formatCount }];
    const bytes: ChartSeries[] = [{ label: 'Bytes sent', values: stats.series.map((p) => p.bytesOut), color: '#16a34a', format: formatBytes }];
    const statuses: ChartSeries[] = [
      { label: '2xx', values: stats.series.map((p) => p.s2xx), color: '#16a34a', format: formatCount },
      { label: '4xx', values: stats.series.map((p) => p.s4xx), color: '#d97706', format: formatCount },
      { label: '5xx', values: stats.series.map((p) => p.s5xx), color: '#dc2626', format: formatCount },
    ];
    return { times, requests, bytes, statuses };
  }, [stats]);
  const sum = (f: (p: Stats['series'][number]) => number) => stats.series.reduce((s, p) => s + f(p), 0);
  const totals = { requests: sum((p) => p.requests), bytes: sum((p) => p.bytesOut), s2xx: sum((p) => p.s2xx), s4xx: sum((p) => p.s4xx), s5xx: sum((p) => p.s5xx) };
  return (
    <>
      <div class="tiles">
        <Tile label="Requests" value={formatCount(totals.requests)} />
        <Tile label="Sent" value={formatBytes(totals.bytes)} />
        <Tile label="Stored" value={formatBytes(stats.storageBytes)} />
        <Tile label="OK (2xx)" value={formatCount(totals.s2xx)} />
        <Tile label="Client errors (4xx)" value={formatCount(totals.s4xx)} />
        <Tile label="Server errors (5xx)" value={formatCount(totals.s5xx)} />
      </div>
      {stats.series.length === 0 ? <Note>No traffic recorded in this time range yet.</Note> : (
        <div class="grid2">
          <div class="card"><TimeChart title="Requests" times={charts.times} series={charts.requests} /></div>
          <div class="card"><TimeChart title="Bytes sent" times={charts.times} series={charts.bytes} /></div>
          <div class="card"><TimeChart title="Answers by status" times={charts.times} series={charts.statuses} /></div>
          <div class="card"><TopReferrers rows={stats.topReferrers} /></div>
        </div>
      )}
      <div class="grid2">
        <div class="card"><TopFiles title="Top files by requests" rows={stats.topByRequests} /></div>
        <div class="card"><TopFiles title="Top files by bytes" rows={stats.topByBytes} /></div>
      </div>
    </>
  );
}

function Tile({ label, value }: { label: string; value: string }) {
  return <div class="tile"><div class="small muted">{label}</div><div class="tile-value">{value}</div></div>;
}

function TopFiles({ title, rows }: { title: string; rows: TopFile[] }) {
  return (
    <>
      <h2>{title}</h2>
      {rows.length === 0 ? <p class="small muted">None yet.</p> : (
        <table class="list compact">
          <thead><tr><th scope="col">File</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Bytes</th></tr></thead>
          <tbody>{rows.map((r) => <tr key={r.key}><td class="break">{r.key}</td><td class="num">{formatCount(r.requests)}</td><td class="num">{formatBytes(r.bytes)}</td></tr>)}</tbody>
        </table>
      )}
    </>
  );
}

function TopReferrers({ rows }: { rows: Stats['topReferrers'] }) {
  return (
    <>
      <h2>Top referrers</h2>
      {rows.length === 0 ? <p class="small muted">No referrers recorded (direct visits or none sent).</p> : (
        <table class="list compact">
          <thead><tr><th scope="col">Referrer</th><th scope="col" class="num">Requests</th></tr></thead>
          <tbody>{rows.map((r) => <tr key={r.referrer}><td class="break">{r.referrer || '(none)'}</td><td class="num">{formatCount(r.requests)}</td></tr>)}</tbody>
        </table>
      )}
    </>
  );
}
