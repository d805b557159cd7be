/**
 * `/_offload/buckets/<bucket>/cache-rules`: GET, PUT (a rules document, see media/cache-rules.ts)
 * and DELETE a bucket's cache rules. Root-signed like every admin call; the PUT body is verified
 * against its signed SHA-256 by the same body decoder S3 uploads use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, decodeBody } from '../auth/index.js';
import type { CredentialLookup } from '../auth/types.js';
import { CacheRulesError, parseCacheRules } from '../media/cache-rules.js';
import type { Store } from '../storage/types.js';

export interface CacheRulesAdminDeps {
  store: Store;
  lookup: CredentialLookup;
  rootAccessKeyId: string;
  region: string;
}

const MAX_RULES_BYTES = 64 * 1024;

export async function cacheRulesAdmin(req: IncomingMessage, res: ServerResponse, bucket: string, deps: CacheRulesAdminDeps): Promise<void> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  let payload;
  try {
    const auth = authenticate(
      { method: req.method ?? 'GET', rawPath: q < 0 ? target : target.slice(0, q), rawQuery: q < 0 ? '' : target.slice(q + 1), headers: req.headers },
      { region: deps.region, lookup: deps.lookup },
    );
    if (auth.principal.kind !== 'user' || auth.principal.credential.accessKeyId !== deps.rootAccessKeyId) {
      return json(res, 403, { error: 'access denied', message: 'a request signed with the root credentials is required' });
    }
    payload = auth.payload;
  } catch (err) {
    return json(res, 403, { error: 'access denied', message: (err as Error).message });
  }
  if (!deps.store.getBucket(bucket)) return json(res, 404, { error: 'no such bucket', bucket });
  switch (req.method) {
    case 'GET': {
      const stored = deps.store.getBucketConfig(bucket, 'cache-rules');
      return json(res, 200, { bucket, rules: stored === undefined ? [] : parseCacheRules(stored) });
    }
    case 'DELETE':
      await deps.store.setBucketConfig(bucket, 'cache-rules', undefined);
      res.writeHead(204).end();
      return;
    case 'PUT': {
      let text: string;
      try {
        text = await readBody(req, payload);
      } catch (err) {
        return json(res, 400, { error: 'bad body', message: (err as Error).message });
      }
      try {
        const rules = parseCacheRules(text);
        await deps.store.setBucketConfig(bucket, 'cache-rules', JSON.stringify({ rules }));
        return json(res, 200, { bucket, rules });
      } catch (err) {
        if (err instanceof CacheRulesError) return json(res, 400, { error: 'invalid cache rules', message: err.message });
        throw err;
      }
    }
    default:
      res.setHeader('Allow', 'GET, PUT, DELETE');
      return json(res, 405, { error: 'method not allowed' });
  }
}

async function readBody(req: IncomingMessage, payload: Parameters<typeof decodeBody>[1]): Promise<string> {
  const decoded = decodeBody(req, payload, { headers: req.headers });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of decoded.stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_RULES_BYTES) throw new Error(`a rules document is at most ${MAX_RULES_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
