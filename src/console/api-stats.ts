/**
 * `/stats`, `/stats/object`, `/prices`: usage over time from the usage tables, top files and
 * referrers, and the month's cost at editable prices. A bucket's numbers are for keys that may
 * read the bucket (its HeadBucket is run to check); all buckets together are for root.
 */
import { badInput, ConsoleError, notAllowed } from './errors.js';
import type { ApiAnswer, Route, SignedInCall } from './deps.js';
import { readJson } from './http.js';
import { runS3Text } from './s3-call.js';
import { parsePrices, type ConsolePrices } from './prices.js';
import { GB, MONTH_DAYS } from '../serving/cost.js';
import type { StatsRange } from './stats-queries.js';

const HOUR = 3_600_000;

function range(call: SignedInCall): StatsRange {
  const q = call.query;
  const period = q.get('period') ?? 'hour';
  if (period !== 'hour' && period !== 'day') throw badInput('"period" is hour or day.');
  const now = Date.now();
  const parse = (name: string, fallback: number) => {
    const v = q.get(name);
    if (v === null || v === '') return fallback;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw badInput(`"${name}" is a date such as 2026-01-31T00:00:00Z.`);
    return t;
  };
  const to = parse('to', now);
  const from = parse('from', to - (period === 'hour' ? 48 * HOUR : 30 * 24 * HOUR));
  if (from > to) throw badInput('"from" is after "to".');
  if ((to - from) / HOUR > (period === 'hour' ? 24 * 93 : 24 * 3660)) throw badInput('That range has too many points: use period=day, or a shorter range.');
  return { bucket: q.get('bucket') || undefined, key: undefined, fromHour: Math.floor(from / HOUR), toHour: Math.floor(to / HOUR), period, top: 10 };
}

async function checkAccess(call: SignedInCall, bucket: string | undefined): Promise<void> {
  if (bucket === undefined) {
    if (!call.session.isRoot) throw notAllowed('Name a bucket: usage of all buckets together is for the root key.');
    return;
  }
  await runS3Text(call, { method: 'HEAD', bucket });
}

async function queries(call: SignedInCall) {
  const stats = call.deps.stats();
  if (!stats) throw new ConsoleError(404, 'NotFound', 'Usage is not recorded on this server.');
  await call.deps.usage?.flush();
  return stats;
}

export function costEstimate(prices: ConsolePrices, usage: { days: number; bytesOut: number; gets: number; puts: number; storedBytes: number }) {
  const scale = MONTH_DAYS / Math.max(usage.days, 1 / 24);
  const storage = (usage.storedBytes / GB) * prices.storagePerGbMonth;
  const egress = (usage.bytesOut / GB) * scale * prices.egressPerGb;
  const requests = ((usage.gets / 1000) * prices.requestsPer1000Get + (usage.puts / 1000) * prices.requestsPer1000Put) * scale;
  return { storage, egress, requests, total: storage + egress + requests, currency: prices.currency, prices };
}

async function stats(call: SignedInCall): Promise<ApiAnswer> {
  const r = range(call);
  await checkAccess(call, r.bucket);
  const q = await queries(call);
  const [totals, stored, series, top] = await Promise.all([q.totals(r), q.stored(r.bucket), q.series(r), q.top(r)]);
  const days = (r.toHour - r.fromHour + 1) / 24;
  return {
    body: {
      bucket: r.bucket,
      period: r.period,
      from: new Date(r.fromHour * HOUR).toISOString(),
      to: new Date((r.toHour + 1) * HOUR).toISOString(),
      series,
      ...top,
      totals,
      storageBytes: stored.bytes,
      objects: stored.objects,
      costEstimate: costEstimate(call.deps.prices.get(), { days, bytesOut: totals.bytesOut, gets: totals.gets, puts: totals.puts, storedBytes: stored.bytes }),
    },
  };
}

async function objectStats(call: SignedInCall): Promise<ApiAnswer> {
  const r = range(call);
  const key = call.query.get('key');
  if (r.bucket === undefined || key === null || key === '') throw badInput('"bucket" and "key" are required.');
  await runS3Text(call, { method: 'HEAD', bucket: r.bucket, key });
  const q = await queries(call);
  const withKey = { ...r, key };
  const [series, totals] = await Promise.all([q.series(withKey), q.totals(withKey)]);
  return { body: { bucket: r.bucket, key, period: r.period, series, totals } };
}

async function getPrices(call: SignedInCall): Promise<ApiAnswer> {
  return { body: call.deps.prices.get() };
}

async function putPrices(call: SignedInCall): Promise<ApiAnswer> {
  if (!call.session.isRoot) throw notAllowed('Only the root key may change the prices.');
  const prices = parsePrices(await readJson(call.req), call.deps.prices.get());
  call.deps.prices.set(prices);
  return { body: prices };
}

export const statsRoutes: Route[] = [
  { method: 'GET', path: '/stats', handler: stats },
  { method: 'GET', path: '/stats/object', handler: objectStats },
  { method: 'GET', path: '/prices', handler: getPrices },
  { method: 'PUT', path: '/prices', handler: putPrices },
];
