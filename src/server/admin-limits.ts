/**
 * `/_offload/buckets/<bucket>/limits`: GET, PUT (a JSON document, see s3/limits/bucket-limits.ts)
 * and DELETE a bucket's rate limits and quotas. Root-checked by admin.ts before this runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { decodeBody } from '../auth/index.js';
import type { PayloadMode } from '../auth/types.js';
import { bucketLimits, validateBucketLimits } from '../s3/limits/bucket-limits.js';
import type { Store } from '../storage/types.js';
import { methodNotAllowed, writeJson } from './admin-common.js';

const MAX_DOCUMENT_BYTES = 16 * 1024;

export async function limitsAdmin(req: IncomingMessage, res: ServerResponse, bucket: string, deps: { store: Store; payload: PayloadMode }): Promise<void> {
  if (!deps.store.getBucket(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  switch (req.method) {
    case 'GET':
      return writeJson(res, 200, { bucket, limits: bucketLimits(deps.store, bucket) ?? {} });
    case 'DELETE':
      await deps.store.setBucketConfig(bucket, 'limits', undefined);
      res.writeHead(204).end();
      return;
    case 'PUT': {
      let limits;
      try {
        limits = validateBucketLimits(JSON.parse(await readBody(req, deps.payload)));
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

async function readBody(req: IncomingMessage, payload: PayloadMode): Promise<string> {
  const decoded = decodeBody(req, payload, { headers: req.headers });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of decoded.stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_DOCUMENT_BYTES) {
      decoded.stream.destroy();
      throw new S3Error('MaxMessageLengthExceeded', `A limits document is at most ${MAX_DOCUMENT_BYTES} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
