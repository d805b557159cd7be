/**
 * `/_offload/buckets/<bucket>/limits`: GET, PUT (a JSON document, see s3/limits/bucket-limits.ts)
 * and DELETE a bucket's rate limits and quotas. Root-checked by admin.ts before this runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { readBody } from './admin-cache-rules.js';
import type { PayloadMode } from '../auth/types.js';
import { bucketLimits, validateBucketLimits } from '../s3/limits/bucket-limits.js';
import { bucketQuotaUse } from '../s3/limits/quota.js';
import type { Store } from '../storage/types.js';
import type { RequestLimiter } from '../s3/limits/limiter.js';
import { methodNotAllowed, writeJson } from './admin-common.js';

const MAX_DOCUMENT_BYTES = 16 * 1024;

export async function limitsAdmin(req: IncomingMessage, res: ServerResponse, bucket: string, deps: { store: Store; payload: PayloadMode; limiter?: RequestLimiter }): Promise<void> {
  // As S3 requests do: bucket state another process (worker, --meta node) changed is seen now.
  await deps.store.refresh();
  if (!deps.store.getBucket(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  switch (req.method) {
    case 'GET': {
      // The quota's use (every version counted), from the metadata store: exact across processes.
      const use = await bucketQuotaUse(deps.store, bucket);
      const limits = bucketLimits(deps.store, bucket) ?? {};
      // The deployment's count for a budgeted bucket (shared by every worker and node, persisted).
      const sent = limits.monthlyTransfer !== undefined && deps.limiter ? deps.limiter.sentThisMonth(bucket) : undefined;
      return writeJson(res, 200, { bucket, limits, ...(use && { quotaUse: { bytes: use.bytes, objects: use.objects } }), ...(sent !== undefined && { transferThisMonth: sent }) });
    }
    case 'DELETE':
      await deps.store.setBucketConfig(bucket, 'limits', undefined);
      res.writeHead(204).end();
      return;
    case 'PUT': {
      let limits;
      try {
        limits = validateBucketLimits(JSON.parse(await readBody(req, deps.payload, { what: 'limits', maxBytes: MAX_DOCUMENT_BYTES })));
      } catch (err) {
        if (err instanceof S3Error) throw err;
        throw new S3Error('InvalidArgument', `Invalid limits: ${(err as Error).message}`, { ArgumentName: 'limits' });
      }
      await deps.store.setBucketConfig(bucket, 'limits', Object.keys(limits).length === 0 ? undefined : JSON.stringify(limits));
      return writeJson(res, 200, { bucket, limits });
    }
    default:
      throw methodNotAllowed(req.method ?? '', 'GET, PUT, DELETE');
  }
}
