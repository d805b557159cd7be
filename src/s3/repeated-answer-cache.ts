/**
 * Repeated anonymous GETs of small public objects, answered without redoing the S3 work.
 *
 * The first such request goes the whole way (route, access check against ACL and policy, cache
 * rules, variants); its response head is kept here, keyed by what the answer depends on (host,
 * URL, Accept-Encoding), next to the id of the blob that was its body. A repeat is answered with
 * that head and the blob from the hot cache. An entry is used only while the store's generation
 * is the one it was made under (any write or other process's commit that could change the
 * answer bumps it) and for at most a second (a rule's Expires header counts from now), and only
 * if the blob is still in the hot cache. Requests that could be answered differently (signed,
 * with a query, a range, conditions, an Origin, any x-amz- header, a body) never use it, and
 * neither do buckets whose policy looks at the client (source IP, Referer, User-Agent: handler.ts).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

const MAX_ENTRIES = 4096;
const TTL_MS = 1000;

interface Entry {
  generation: number;
  expiresAt: number;
  bucket: string;
  key: string;
  blobId: string;
  /** Flat [name, value, ...] with the two request-id values left blank (slots 1 and 3). */
  head: (string | number)[];
}

export interface RepeatedAnswerHit {
  bucket: string;
  key: string;
  /** The response body (the blob, from the hot cache): its length is what the answer sends. */
  body: Buffer;
  entry: Entry;
}

/** Answers this process served from here since it started (/_offload/metrics: offload_repeated_answers_total). */
let answered = 0;
export function repeatedAnswersServed(): number {
  return answered;
}

export class RepeatedAnswerCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly generation: () => number,
    private readonly hotBlob: (blobId: string) => Buffer | undefined,
  ) {}

  /** The cache key of a request that may be answered from here, or undefined. */
  static keyOf(req: IncomingMessage): string | undefined {
    if (req.method !== 'GET') return undefined;
    const url = req.url;
    if (url === undefined || url.includes('?')) return undefined;
    const h = req.headers;
    if (!plainRequest(h)) return undefined;
    return `${h.host ?? ''}\n${h['accept-encoding'] ?? ''}\n${url}`; // GET_ANSWER_INPUTS.keyedOn
  }

  /**
   * The kept answer for the request, if it can be used, without sending it: the caller admits
   * the request through the rate limiter first (handler.ts), then calls answer().
   */
  find(key: string): RepeatedAnswerHit | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation !== this.generation() || entry.expiresAt < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    const body = this.hotBlob(entry.blobId);
    if (body === undefined) return undefined;
    return { bucket: entry.bucket, key: entry.key, body, entry };
  }

  /** Sends a found answer with this request's id. */
  answer(hit: RepeatedAnswerHit, res: ServerResponse, requestId: string): void {
    const head = hit.entry.head.slice();
    head[1] = requestId;
    head[3] = requestId;
    answered++;
    res.writeHead(200, head as string[]);
    res.end(hit.body);
  }

  /**
   * Keeps a response just written by the full path from `headers` (the reply's, which
   * respond.ts wrote after the request-id and Server headers). `generation` is the store's
   * generation when that request began, so a write that raced with it leaves the entry stale.
   */
  remember(key: string, res: ServerResponse, headers: Record<string, string | number | undefined>, from: { generation: number; bucket: string; key: string; blobId: string }): void {
    const head: (string | number)[] = ['x-amz-request-id', '', 'x-amz-id-2', '', 'Server', 'Offload'];
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) head.push(name, value);
    // Anything else the full path set on the response (say, CORS) makes this answer its own.
    if (res.getHeaderNames().length !== head.length / 2) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { ...from, expiresAt: Date.now() + TTL_MS, head });
  }
}

/**
 * The request headers a GetObject answer can depend on, in one list: the cache key holds the
 * `keyedOn` ones, and a request with any `ownAnswer` header (or any x-amz- header) is answered
 * the whole way. A header GetObject starts reading must be added here; the unit test beside this
 * file checks object-get.ts against it.
 */
export const GET_ANSWER_INPUTS = {
  keyedOn: ['host', 'accept-encoding'],
  ownAnswer: ['authorization', 'range', 'if-range', 'origin', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'transfer-encoding', 'expect'],
  ownAnswerPrefix: 'x-amz-',
} as const;

/** No credentials, conditions, range, CORS, S3 options or body: the answer depends only on the URL. */
function plainRequest(h: IncomingHttpHeaders): boolean {
  for (const name of GET_ANSWER_INPUTS.ownAnswer) if (h[name] !== undefined) return false;
  if (h['content-length'] !== undefined && h['content-length'] !== '0') return false;
  for (const name in h) if (name.charCodeAt(0) === 120 && name.startsWith(GET_ANSWER_INPUTS.ownAnswerPrefix)) return false;
  return true;
}
