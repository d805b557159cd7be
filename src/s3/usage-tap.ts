/**
 * What the S3 layer reports about each request, declared here and implemented above it
 * (serving/usage.ts records usage stats, metrics and access logs from it): the protocol layer
 * never imports the recorder.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/types.js';

/** What the handler learned about a request; read when the response ends. */
export interface RequestTap {
  op: string;
  bucket: string | undefined;
  key: string | undefined;
  principal: Principal;
  website: boolean;
}

/** Watches requests: one tap per request, filled in by the handler, read when the response ends. */
export interface UsageTap {
  begin(req: IncomingMessage, res: ServerResponse): RequestTap;
}
