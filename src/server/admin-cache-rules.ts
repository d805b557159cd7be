/**
 * `/_offload/buckets/<bucket>/cache-rules`: GET, PUT (a rules document, see media/cache-rules.ts)
 * and DELETE a bucket's cache rules. The caller is root-checked by admin.ts before this runs; the
 * PUT body is verified against its signed SHA-256 by the same body decoder S3 uploads use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors/s3-error.js';
import { decodeBody } from '../auth/index.js';
import type { PayloadMode } from '../auth/types.js';
import { CacheRulesError, parseCacheRules } from '../media/cache-rules.js';
import type { Store } from '../storage/types.js';
import { methodNotAllowed, writeJson } from './admin-common.js';

export interface CacheRulesAdminDeps {
  store: Store;
  /** How the (root-signed) request's body is to be verified. */
  payload: PayloadMode;
}

const MAX_RULES_BYTES = 64 * 1024;

export async function cacheRulesAdmin(req: IncomingMessage, res: ServerResponse, bucket: string, deps: CacheRulesAdminDeps): Promise<void> {
  if (!deps.store.getBucket(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  switch (req.method) {
    case 'GET': {
      const stored = deps.store.getBucketConfig(bucket, 'cache-rules');
      return writeJson(res, 200, { bucket, rules: stored === undefined ? [] : parseCacheRules(stored) });
    }
    case 'DELETE':
      await deps.store.setBucketConfig(bucket, 'cache-rules', undefined);
      res.writeHead(204).end();
      return;
    case 'PUT': {
      const text = await readBody(req, deps.payload);
      let rules;
      try {
        rules = parseCacheRules(text);
      } catch (err) {
        if (err instanceof CacheRulesError) throw new S3Error('InvalidArgument', `Invalid cache rules: ${err.message}`, { ArgumentName: 'rules' });
        throw err;
      }
      await deps.store.setBucketConfig(bucket, 'cache-rules', JSON.stringify({ rules }));
      return writeJson(res, 200, { bucket, rules });
    }
    default:
      throw methodNotAllowed(req.method ?? '', 'GET, PUT, DELETE');
  }
}

/** A small signed JSON body (also the origin and limits endpoints'), at most `limit.maxBytes`. */
export async function readBody(req: IncomingMessage, payload: PayloadMode, limit = { what: 'rules', maxBytes: MAX_RULES_BYTES }): Promise<string> {
  const decoded = decodeBody(req, payload, { headers: req.headers });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of decoded.stream) {
    size += (chunk as Buffer).length;
    if (size > limit.maxBytes) {
      decoded.stream.destroy();
      throw new S3Error('MaxMessageLengthExceeded', `A ${limit.what} document is at most ${limit.maxBytes} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
