/**
 * `/_offload/buckets/<bucket>/origin`: GET (secrets masked), PUT (a JSON origin document, see
 * origin/config.ts) and DELETE a bucket's origin; `/_offload/buckets/<bucket>/purge`: POST
 * {"key": ...} or {"prefix": ...} deletes filled objects so the next GET refetches them.
 * Root-checked by admin.ts first. A PUT whose origin host resolves to an address the SSRF guard
 * refuses is refused here, before anything is stored (and the guard checks again at connect).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import type { PayloadMode } from '../auth/types.js';
import { OriginRefused, type AddressGuard } from '../origin/address-guard.js';
import { maskedOrigin, OriginConfigError, parseOriginConfig, type OriginConfig } from '../origin/config.js';
import type { OriginService } from '../origin/service.js';
import type { Store } from '../storage/types.js';
import { methodNotAllowed, writeJson } from './admin-common.js';
import { readBody } from './admin-cache-rules.js';

export interface OriginAdminDeps {
  store: Store;
  payload: PayloadMode;
  origin: OriginService;
  guard: AddressGuard;
}

const MASK = '********';

export async function originAdmin(req: IncomingMessage, res: ServerResponse, bucket: string, deps: OriginAdminDeps): Promise<void> {
  if (!deps.store.getBucket(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  const stored = deps.store.getBucketConfig(bucket, 'origin');
  switch (req.method) {
    case 'GET':
      if (stored === undefined) throw new S3Error('InvalidArgument', `The bucket ${bucket} has no origin.`, { ArgumentName: 'origin' });
      return writeJson(res, 200, { bucket, origin: maskedOrigin(parseOriginConfig(JSON.parse(stored))) });
    case 'DELETE':
      await deps.store.setBucketConfig(bucket, 'origin', undefined);
      res.writeHead(204).end();
      return;
    case 'PUT': {
      const doc = parseJson(await readBody(req, deps.payload));
      keepStoredSecret(doc, stored);
      let config: OriginConfig;
      try {
        config = parseOriginConfig(doc);
      } catch (err) {
        if (err instanceof OriginConfigError) throw new S3Error('InvalidArgument', `Invalid origin: ${err.message}`, { ArgumentName: 'origin' });
        throw err;
      }
      await refuseForbiddenHost(deps.guard, config);
      await deps.store.setBucketConfig(bucket, 'origin', JSON.stringify(config));
      return writeJson(res, 200, { bucket, origin: maskedOrigin(config) });
    }
    default:
      throw methodNotAllowed(req.method ?? '', 'GET, PUT, DELETE');
  }
}

export async function purgeAdmin(req: IncomingMessage, res: ServerResponse, bucket: string, deps: OriginAdminDeps): Promise<void> {
  if (!deps.store.getBucket(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  if (req.method !== 'POST') throw methodNotAllowed(req.method ?? '', 'POST');
  const doc = parseJson(await readBody(req, deps.payload)) as { key?: unknown; prefix?: unknown };
  const target = typeof doc.key === 'string' && doc.prefix === undefined ? { key: doc.key } : typeof doc.prefix === 'string' && doc.key === undefined ? { prefix: doc.prefix } : undefined;
  if (!target) throw new S3Error('InvalidArgument', 'A purge names one "key" or one "prefix".', { ArgumentName: 'purge' });
  const result = await deps.origin.purge(bucket, target);
  writeJson(res, 200, { bucket, ...target, purged: result.purged.length, kept: result.kept, keys: result.purged.slice(0, 1000) });
}

/** The CLI and console send back what GET showed: a masked secret means "keep the stored one". */
function keepStoredSecret(doc: unknown, stored: string | undefined): void {
  const s3 = (doc as { s3?: { secretAccessKey?: unknown; accessKeyId?: unknown } } | null)?.s3;
  if (!s3 || s3.secretAccessKey !== MASK || stored === undefined) return;
  const previous = (JSON.parse(stored) as { s3?: { secretAccessKey?: string; accessKeyId?: string } }).s3;
  if (previous?.accessKeyId === s3.accessKeyId) s3.secretAccessKey = previous?.secretAccessKey;
}

async function refuseForbiddenHost(guard: AddressGuard, config: OriginConfig): Promise<void> {
  const url = new URL(config.url ?? config.s3!.endpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  try {
    await guard.resolve(url.hostname, port, config.allowPrivateAddresses);
  } catch (err) {
    if (err instanceof OriginRefused) throw new S3Error('InvalidArgument', `Invalid origin: ${err.message}`, { ArgumentName: 'origin' });
    throw err;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new S3Error('InvalidArgument', 'The body is not a JSON document.', { ArgumentName: 'body' });
  }
}
