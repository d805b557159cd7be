/**
 * The server's own namespace, `/_offload/...`: health, usage stats and Prometheus metrics.
 * Stats and metrics need a request signed with the root credentials (SigV4 or SigV2, as for S3);
 * metrics may be opened to unsigned scrapers with OFFLOAD_METRICS_PUBLIC=1.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/index.js';
import type { CredentialLookup } from '../auth/types.js';
import type { UsageRecorder } from '../serving/usage.js';
import { StatsQueries } from '../serving/stats-report.js';
import { METRICS_CONTENT_TYPE, MetricsQueries } from '../serving/metrics.js';
import { cacheRulesAdmin } from './admin-cache-rules.js';
import type { Store } from '../storage/types.js';

export interface AdminDeps {
  ready: () => boolean;
  /** Usage recording; without it stats and metrics answer 404. */
  usage?: UsageRecorder;
  region?: string;
  lookup?: CredentialLookup;
  /** Only this access key may read stats and metrics. */
  rootAccessKeyId?: string;
  bucketExists?: (name: string) => boolean;
  /** Serve /_offload/metrics without a signature. */
  metricsPublic?: boolean;
  /** For the bucket settings the admin API manages (cache rules). */
  store?: Store;
}

export function createAdminHandler(deps: AdminDeps) {
  let queries: { stats: StatsQueries; metrics: MetricsQueries } | undefined;
  const usageQueries = () => (deps.usage ? (queries ??= { stats: new StatsQueries(deps.usage.db), metrics: new MetricsQueries(deps.usage.db) }) : undefined);
  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const method = req.method ?? 'GET';
    const headOnly = method === 'HEAD';
    if (path === '/_offload/health' && (method === 'GET' || headOnly)) {
      const ready = deps.ready();
      json(res, ready ? 200 : 503, { status: ready ? 'ok' : 'stopping' }, headOnly);
      return;
    }
    const rules = /^\/_offload\/buckets\/([^/]+)\/cache-rules$/.exec(path);
    if (rules && deps.store && deps.lookup && deps.rootAccessKeyId) {
      const rulesDeps = { store: deps.store, lookup: deps.lookup, rootAccessKeyId: deps.rootAccessKeyId, region: deps.region ?? 'us-east-1' };
      cacheRulesAdmin(req, res, safeDecode(rules[1]!), rulesDeps).catch((err: unknown) => json(res, 500, { error: 'internal error', message: (err as Error).message }, headOnly));
      return;
    }
    const isMetrics = path === '/_offload/metrics';
    const statsBucket = path.startsWith('/_offload/stats/') ? safeDecode(path.slice('/_offload/stats/'.length)) : undefined;
    const q = usageQueries();
    if ((!isMetrics && statsBucket === undefined) || q === undefined || deps.usage === undefined) {
      json(res, 404, { error: 'not found', path }, headOnly);
      return;
    }
    if (method !== 'GET' && !headOnly) {
      res.setHeader('Allow', 'GET, HEAD');
      json(res, 405, { error: 'method not allowed' }, headOnly);
      return;
    }
    if (!(isMetrics && deps.metricsPublic)) {
      const denied = checkRoot(req, deps);
      if (denied !== undefined) {
        json(res, 403, { error: 'access denied', message: denied }, headOnly);
        return;
      }
    }
    try {
      // This worker's latest counts first; other workers' arrive within their flush interval.
      deps.usage.flush();
      if (isMetrics) {
        const text = q.metrics.render();
        res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
        res.end(headOnly ? undefined : text);
        return;
      }
      const bucket = statsBucket!.replace(/\/$/, '');
      if (bucket === '' || bucket.includes('/') || (deps.bucketExists && !deps.bucketExists(bucket))) {
        json(res, 404, { error: 'no such bucket', bucket }, headOnly);
        return;
      }
      const params = new URLSearchParams(queryOf(req.url));
      const top = Number(params.get('top') ?? '20');
      if (!Number.isInteger(top) || top < 1 || top > 1000) {
        json(res, 400, { error: 'top must be a whole number from 1 to 1000' }, headOnly);
        return;
      }
      let report;
      try {
        report = q.stats.report({ bucket, prefix: params.get('prefix') ?? '', since: params.get('since') ?? '7d', top });
      } catch (err) {
        json(res, 400, { error: (err as Error).message }, headOnly);
        return;
      }
      json(res, 200, report, headOnly);
    } catch (err) {
      json(res, 500, { error: 'internal error', message: (err as Error).message }, headOnly);
    }
  };
}

/** undefined when the request is signed by the root key; otherwise why not. */
function checkRoot(req: IncomingMessage, deps: AdminDeps): string | undefined {
  if (deps.lookup === undefined || deps.rootAccessKeyId === undefined) return 'authentication is not configured';
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  try {
    const auth = authenticate(
      { method: req.method ?? 'GET', rawPath: q < 0 ? target : target.slice(0, q), rawQuery: q < 0 ? '' : target.slice(q + 1), headers: req.headers },
      { region: deps.region ?? 'us-east-1', lookup: deps.lookup },
    );
    if (auth.principal.kind !== 'user') return 'a request signed with the root credentials is required';
    if (auth.principal.credential.accessKeyId !== deps.rootAccessKeyId) return 'only the root credentials may read stats and metrics';
    return undefined;
  } catch (err) {
    return (err as Error).message || 'signature check failed';
  }
}

function queryOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?');
  return q < 0 ? '' : url!.slice(q + 1);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function json(res: ServerResponse, status: number, body: unknown, headOnly: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(headOnly ? undefined : text);
}
