/**
 * The server's own namespace, `/_offload/...`: health, usage stats, Prometheus metrics and the
 * bucket settings the admin API manages (cache rules). All but health need a request signed with
 * the root credentials (SigV4 or SigV2, as for S3), checked once by `requireRoot`; metrics may be
 * opened to unsigned scrapers with OFFLOAD_METRICS_PUBLIC=1. Errors are S3 XML error documents.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { nextRequestId, setRequestIdHeaders } from '../s3/handler.js';
import { writeError } from '../s3/respond.js';
import type { UsageRecorder } from '../serving/usage.js';
import type { UsageReaders } from '../serving/usage-backend.js';
import { StatsArgumentError, StatsQueries } from '../serving/stats-report.js';
import { METRICS_CONTENT_TYPE, MetricsQueries } from '../serving/metrics.js';
import type { Store } from '../storage/types.js';
import type { RequestTarget } from '../util/request-target.js';
import { methodNotAllowed, requireRoot, safeDecode, writeJson, type RootCheck } from './admin-common.js';
import { cacheRulesAdmin } from './admin-cache-rules.js';
import { originAdmin, purgeAdmin } from './admin-origin.js';
import type { OriginService } from '../origin/service.js';
import type { AddressGuard } from '../origin/address-guard.js';
import { limitsAdmin } from './admin-limits.js';
import { hasMetricsToken } from './admin-metrics-auth.js';
import { limitMetrics } from '../serving/limit-metrics.js';
import type { RequestLimiter } from '../s3/limits/limiter.js';

export interface AdminDeps extends RootCheck {
  ready: () => boolean;
  /** Usage recording; without it stats and metrics answer XOffloadNoSuchAdminEndpoint. */
  usage?: UsageRecorder;
  /** Where stats and metrics are read (PostgreSQL with --meta); default: the SQLite tables of `usage`. */
  usageReaders?: UsageReaders;
  bucketExists?: (name: string) => boolean;
  /** Serve /_offload/metrics without a signature. */
  metricsPublic?: boolean;
  /** For the bucket settings the admin API manages (cache rules, origin, limits). */
  store?: Store;
  /** Origin buckets: their configuration endpoint and purge. */
  origin?: { service: OriginService; guard: AddressGuard };
  /** `--metrics-token`: a bearer token that may read /_offload/metrics. */
  metricsToken?: string;
  /** Throttled requests and transfer use, appended to the metrics. */
  limiter?: RequestLimiter;
}

type UsageQueries = UsageReaders;

export function createAdminHandler(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void {
  let queries: UsageQueries | undefined;
  const db = deps.usage?.db;
  const usageQueries = () => deps.usageReaders ?? (db ? (queries ??= { stats: new StatsQueries(db), metrics: new MetricsQueries(db) }) : undefined);
  return (req, res, target) => {
    const requestId = nextRequestId();
    setRequestIdHeaders(res, requestId);
    answer(req, res, target, deps, usageQueries).catch((err: unknown) => writeError(req, res, err, target.rawPath, requestId));
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, target: RequestTarget, deps: AdminDeps, usageQueries: () => UsageQueries | undefined): Promise<void> {
  const { rawPath: path } = target;
  const method = req.method ?? 'GET';
  const headOnly = method === 'HEAD';
  if (path === '/_offload/health' && (method === 'GET' || headOnly)) {
    const ready = deps.ready();
    return writeJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'stopping' }, headOnly);
  }
  // Bucket state another process (worker, --meta node) changed is seen now, as S3 requests see it.
  if (path.startsWith('/_offload/buckets/')) await deps.store?.refresh();
  const rules = /^\/_offload\/buckets\/([^/]+)\/cache-rules$/.exec(path);
  if (rules && deps.store) {
    const auth = requireRoot(req, target, deps);
    return cacheRulesAdmin(req, res, safeDecode(rules[1]!), { store: deps.store, payload: auth.payload });
  }
  const origin = /^\/_offload\/buckets\/([^/]+)\/(origin|purge)$/.exec(path);
  if (origin && deps.store && deps.origin) {
    const auth = requireRoot(req, target, deps);
    const originDeps = { store: deps.store, payload: auth.payload, origin: deps.origin.service, guard: deps.origin.guard };
    return (origin[2] === 'origin' ? originAdmin : purgeAdmin)(req, res, safeDecode(origin[1]!), originDeps);
  }
  const limits = /^\/_offload\/buckets\/([^/]+)\/limits$/.exec(path);
  if (limits && deps.store) {
    const auth = requireRoot(req, target, deps);
    return limitsAdmin(req, res, safeDecode(limits[1]!), { store: deps.store, payload: auth.payload, limiter: deps.limiter });
  }
  const isMetrics = path === '/_offload/metrics';
  const statsBucket = path.startsWith('/_offload/stats/') ? safeDecode(path.slice('/_offload/stats/'.length)) : undefined;
  const q = usageQueries();
  if ((!isMetrics && statsBucket === undefined) || q === undefined || deps.usage === undefined) throw new S3Error('XOffloadNoSuchAdminEndpoint');
  if (method !== 'GET' && !headOnly) throw methodNotAllowed(method, 'GET, HEAD');
  if (!(isMetrics && (deps.metricsPublic || hasMetricsToken(req, deps.metricsToken)))) requireRoot(req, target, deps);
  // This worker's latest counts first; other workers' arrive within their flush interval.
  await deps.usage.flush();
  if (isMetrics) {
    const text = (await q.metrics.render()) + (deps.limiter && deps.store ? await limitMetrics(deps.limiter, deps.store) : '');
    res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(headOnly ? undefined : text);
    return;
  }
  const bucket = statsBucket!.replace(/\/$/, '');
  if (bucket === '' || bucket.includes('/') || (deps.bucketExists && !deps.bucketExists(bucket))) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  const params = new URLSearchParams(target.rawQuery);
  const top = Number(params.get('top') ?? '20');
  if (!Number.isInteger(top) || top < 1 || top > 1000) throw invalidArgument('top must be a whole number from 1 to 1000', 'top', params.get('top'));
  let report;
  try {
    report = await q.stats.report({ bucket, prefix: params.get('prefix') ?? '', since: params.get('since') ?? '7d', top });
  } catch (err) {
    if (!(err instanceof StatsArgumentError)) throw err;
    throw invalidArgument(err.message, 'since', params.get('since'));
  }
  writeJson(res, 200, report, headOnly);
}

function invalidArgument(message: string, name: string, value: string | null): S3Error {
  return new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: (value ?? '').slice(0, 64) });
}
