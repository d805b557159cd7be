/**
 * Fill while streaming: the origin's body goes to the client as it arrives and, at the same
 * time, into store.putObject. The stored copy is committed only when the body ended normally
 * and its length matches the origin's Content-Length (and, for an upstream S3 object with a
 * plain MD5 ETag, its MD5); a cut or short body, or one over the size limit, abandons the write.
 * The slower of the two readers sets the pace; a client that goes away leaves the fill going.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { Acl, ObjectHeaders, ObjectMeta, Store } from '../storage/types.js';

export interface FillInput {
  store: Store;
  bucket: string;
  key: string;
  owner: string;
  acl: Acl;
  headers: ObjectHeaders;
  origin: IncomingMessage;
  /** Store at most this many bytes: a longer body is only streamed through. */
  maxSize: number;
  /** Give a stream for the client (the first request of a miss); background fills have none. */
  withClient: boolean;
  /** The origin's ETag is the MD5 of the bytes when plain (an upstream S3 object): check it. */
  etagIsMd5: boolean;
  /** Bytes as they arrive from the origin (counters). */
  onBytes?: (n: number) => void;
  /** Checked in the commit transaction: refuse to replace what a user uploaded meanwhile. */
  precondition?: (current: ObjectMeta | undefined) => void;
}

export interface Fill {
  client?: Readable;
  /** The stored object, or undefined when nothing was stored (and why). */
  stored: Promise<{ meta?: ObjectMeta; reason?: string }>;
}

export function startFill(input: FillInput): Fill {
  const { origin } = input;
  const expected = numberHeader(origin.headers['content-length']);
  const md5 = input.etagIsMd5 ? upstreamMd5(origin.headers.etag) : undefined;
  const storeBody = new PassThrough({ highWaterMark: 1024 * 1024 });
  const client = input.withClient ? new PassThrough({ highWaterMark: 1024 * 1024 }) : undefined;
  let storing = expected === undefined || expected <= input.maxSize;
  let clientGone = false;
  let waits = 0;
  let received = 0;
  const waitFor = (stream: PassThrough) => {
    waits++;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      stream.off('drain', release);
      stream.off('close', release);
      if (--waits === 0) origin.resume();
    };
    stream.once('drain', release);
    stream.once('close', release);
  };
  const stopStoring = (reason: string) => {
    if (!storing) return;
    storing = false;
    storeBody.destroy(new Error(reason));
  };

  const stored: Fill['stored'] = storing
    ? input.store.putObject({ bucket: input.bucket, key: input.key, owner: input.owner, acl: input.acl, ...input.headers, body: storeBody, precondition: input.precondition, beforeCommit: ({ md5: got, size }) => {
      if (expected !== undefined && size !== expected) throw new Error(`the origin sent ${size} of ${expected} bytes`);
      if (md5 !== undefined && got.toString('hex') !== md5) throw new Error('the origin body does not match its ETag');
    } }).then((meta) => ({ meta }), (err: Error) => {
      storing = false;
      return { reason: err.message };
    })
    : Promise.resolve({ reason: `larger than the bucket's maximum object size (${input.maxSize} bytes)` });
  if (!storing) storeBody.destroy();
  client?.once('close', () => {
    clientGone = true;
  });

  origin.on('data', (chunk: Buffer) => {
    received += chunk.length;
    input.onBytes?.(chunk.length);
    if (storing && received > input.maxSize) stopStoring(`larger than the bucket's maximum object size (${input.maxSize} bytes)`);
    if (storing && !storeBody.write(chunk)) waitFor(storeBody);
    if (client && !clientGone && !client.write(chunk)) waitFor(client);
    if (waits > 0) origin.pause();
    if (!storing && (!client || clientGone)) origin.destroy();
  });
  origin.once('end', () => {
    const complete = origin.complete && (expected === undefined || received === expected);
    if (!complete) {
      stopStoring('the origin body ended early');
      client?.destroy(new Error('the origin body ended early'));
      return;
    }
    if (storing) storeBody.end();
    client?.end();
  });
  const cut = () => {
    if (origin.complete && origin.readableEnded) return;
    stopStoring('the origin connection was cut mid-body');
    client?.destroy(new Error('the origin connection was cut mid-body'));
  };
  origin.once('aborted', cut);
  origin.once('error', cut);
  origin.once('close', cut);
  return { client, stored };
}

function numberHeader(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** An upstream S3 single-part ETag is the MD5 of the bytes; anything else (weak, multipart, nginx's) checks nothing. */
function upstreamMd5(etag: string | undefined): string | undefined {
  const m = etag === undefined ? null : /^"([0-9a-f]{32})"$/.exec(etag);
  return m ? m[1] : undefined;
}
