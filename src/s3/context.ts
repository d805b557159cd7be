/** The typed request context built once after authentication and passed to every handler. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { AuthResult, CredentialLookup, Principal, PayloadMode } from '../auth/types.js';
import type { ObjectMeta, ObjectReader, Store } from '../storage/types.js';
import type { PooledBuffer } from '../storage/buffer-pool.js';
import type { BucketOpName, ObjectOpName, OpName, Operation, ServiceOpName } from './router.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Base domain for virtual-hosted-style requests (`bucket.<domain>`). */
  domain: string;
  region: string;
  /** Canonical id and display name of the root account (owner of buckets made with the root keys). */
  rootOwner: { id: string; displayName: string };
  /** The display name of another owner (an access key's name), for ACL and listing documents. */
  ownerName?: (ownerId: string) => string | undefined;
  /** Compress text objects that have no stored .br/.gz variant on first request, and keep the result. */
  compressOnTheFly?: boolean;
  /** Pull-through origin buckets (src/origin/ implements it): GET/HEAD of a key the bucket lacks asks the origin. */
  origin?: OriginPuller;
  /** The master key is configured (--master-key-file): SSE-S3 writes are possible. */
  masterKey?: boolean;
}

/**
 * Declared here, implemented above (origin/service.ts): GetObject and HeadObject hand their
 * store answer to it. undefined means the bucket has no origin and the store answers as always.
 */
export interface OriginPuller {
  get(ctx: RequestContext<{ op: 'GetObject'; bucket: string; key: string }>, reader: ObjectReader | undefined, fromStore: (reader: ObjectReader | undefined) => Promise<Reply>): Promise<Reply> | undefined;
  head(ctx: RequestContext<{ op: 'HeadObject'; bucket: string; key: string }>, meta: ObjectMeta | undefined, fromStore: (meta: ObjectMeta | undefined) => Promise<Reply>): Promise<Reply> | undefined;
}

export interface RequestContext<O extends Operation = Operation> {
  requestId: string;
  req: IncomingMessage;
  op: O;
  principal: Principal;
  payload: PayloadMode;
  auth: AuthResult;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  store: Store;
  config: ServerConfig;
  /** Reads a small request body whole (XML documents), at most `limit` bytes, verified as the signature requires. */
  readBody(limit?: number): Promise<Buffer>;
  /** Access keys, for operations that verify a signature themselves (PostObject's form policy). */
  lookup?: CredentialLookup;
}

/** What a handler returns; `respond.ts` writes it. */
export interface Reply {
  status: number;
  headers?: Record<string, string | number | undefined>;
  body?: string | Buffer | Readable;
  /** Instead of body: pooled chunks, each recycled once written (see ObjectReader.chunks). */
  chunks?: AsyncIterable<PooledBuffer>;
  /** Runs once the response is finished or the connection closed (releases pinned reads). */
  onDone?: () => void;
  /** The body is this whole blob, from the hot cache: a repeat of the request may reuse it (repeated-answer-cache.ts). */
  blobId?: string;
}

export type OpOf<K extends OpName> = K extends ServiceOpName
  ? { op: K }
  : K extends BucketOpName
    ? { op: K; bucket: string }
    : K extends ObjectOpName
      ? { op: K; bucket: string; key: string }
      : { op: K; bucket: string; key?: string };
export type Handler<K extends OpName> = (ctx: RequestContext<OpOf<K>>) => Promise<Reply>;
/** One handler per operation name: adding an operation to the router without a handler is a type error. */
export type HandlerTable = { [K in OpName]: Handler<K> };

export const xmlReply = (body: string, status = 200, headers: Reply['headers'] = {}): Reply => ({
  status,
  headers: { 'Content-Type': 'application/xml', ...headers },
  body,
});

export const emptyReply = (status = 200, headers: Reply['headers'] = {}): Reply => ({ status, headers });
