/**
 * Uploads through the console API: small files in one PUT, larger ones in multipart with a few
 * parts in flight. A network error does not lose the upload: the engine waits, asks the server
 * which parts it already has (GET /uploads/:id) and sends only the missing ones. XMLHttpRequest,
 * not fetch, because only it reports upload progress.
 */
import { apiHeaders, apiUrl, ApiError, errorFrom, seg } from './api';

/** Files above this go multipart (the server picks the part size, at least S3's 5 MiB). */
export const MULTIPART_THRESHOLD = 8 * 1024 * 1024;
const PARALLEL_PARTS = 3;
const RETRY_ROUNDS = 8;

export type UploadState = 'waiting' | 'uploading' | 'retrying' | 'done' | 'failed';

export interface UploadItem {
  file: File;
  key: string;
  loaded: number;
  state: UploadState;
  error?: string;
  /** Kept after a failure, so "Retry" resumes the same multipart upload. */
  uploadId?: string;
  partSize?: number;
}

class NetworkDrop extends Error {}

function send(method: string, url: string, body: Blob | string | null, headers: Record<string, string>, onProgress?: (loaded: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(apiHeaders(method, headers))) xhr.setRequestHeader(k, v);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new NetworkDrop('The connection dropped.'));
    xhr.ontimeout = xhr.onerror;
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.responseText);
      else void errorFrom(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after')).then(reject);
    };
    xhr.send(body);
  });
}

const json = (text: string) => (text ? JSON.parse(text) : {}) as Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits out a network drop: a growing pause, and until the browser says it is online again. */
async function waitForNetwork(round: number): Promise<void> {
  await sleep(Math.min(500 * 2 ** round, 15_000));
  while (!navigator.onLine) await sleep(1000);
}

/** A body without a type, so no Content-Type is sent and the server guesses it like `offload sync`. */
const untyped = (blob: Blob) => blob.slice(0, blob.size, '');

export async function uploadOne(bucket: string, item: UploadItem, makePublic: boolean, changed: () => void): Promise<void> {
  item.state = 'uploading';
  item.error = undefined;
  changed();
  try {
    if (item.file.size <= MULTIPART_THRESHOLD) await uploadSmall(bucket, item, makePublic, changed);
    else await uploadMultipart(bucket, item, makePublic, changed);
    item.loaded = item.file.size;
    item.state = 'done';
  } catch (err) {
    item.state = 'failed';
    if (err instanceof ApiError && err.status === 404) item.uploadId = undefined; // the upload expired: start over
    item.error = err instanceof ApiError && err.notAllowed ? `Not allowed: ${err.message.replace(/^Not allowed:?\s*/i, '')}` : err instanceof Error ? err.message : String(err);
  }
  changed();
}

async function uploadSmall(bucket: string, item: UploadItem, makePublic: boolean, changed: () => void): Promise<void> {
  const url = apiUrl(`buckets/${seg(bucket)}/put`, { key: item.key, public: makePublic ? 1 : undefined });
  for (let round = 0; ; round++) {
    try {
      await send('PUT', url, untyped(item.file), {}, (n) => { item.loaded = n; changed(); });
      return;
    } catch (err) {
      if (!(err instanceof NetworkDrop) || round >= RETRY_ROUNDS) throw err;
      item.state = 'retrying';
      item.loaded = 0;
      changed();
      await waitForNetwork(round);
      item.state = 'uploading';
    }
  }
}

async function uploadMultipart(bucket: string, item: UploadItem, makePublic: boolean, changed: () => void): Promise<void> {
  const base = `buckets/${seg(bucket)}/uploads`;
  const etags = new Map<number, string>();
  if (!item.uploadId || !item.partSize) {
    const started = json(await send('POST', apiUrl(base), JSON.stringify({ key: item.key, public: makePublic, size: item.file.size }), { 'content-type': 'application/json' }));
    item.uploadId = String(started.uploadId);
    item.partSize = Number(started.partSize) || MULTIPART_THRESHOLD;
  }
  const uploadId = item.uploadId;
  const partSize = item.partSize;
  const count = Math.max(1, Math.ceil(item.file.size / partSize));
  const sizeOf = (n: number) => Math.min(partSize, item.file.size - (n - 1) * partSize);
  // Retry after a failure: start from what the server already has.
  if (item.loaded > 0) await askExistingParts(base, uploadId, etags, sizeOf);
  const inFlight = new Map<number, number>();
  const report = () => {
    let done = 0;
    for (const n of etags.keys()) done += sizeOf(n);
    for (const loaded of inFlight.values()) done += loaded;
    item.loaded = Math.min(done, item.file.size);
    changed();
  };

  for (let round = 0; ; round++) {
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !etags.has(n));
    let dropped = false;
    const worker = async () => {
      for (let n = missing.shift(); n !== undefined; n = missing.shift()) {
        const blob = item.file.slice((n - 1) * partSize, (n - 1) * partSize + sizeOf(n), '');
        const partNumber = n;
        try {
          const res = json(await send('PUT', apiUrl(`${base}/${seg(uploadId)}/parts/${n}`), blob, {}, (loaded) => { inFlight.set(partNumber, loaded); report(); }));
          etags.set(n, String(res.etag));
        } catch (err) {
          if (!(err instanceof NetworkDrop)) throw err;
          dropped = true;
        } finally {
          inFlight.delete(partNumber);
          report();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, missing.length) }, worker));
    if (!dropped) break;
    if (round >= RETRY_ROUNDS) throw new Error('The connection kept dropping. Press Retry to resume where it stopped.');
    item.state = 'retrying';
    changed();
    await waitForNetwork(round);
    // The server is the truth about which parts arrived (a part may have landed as the link dropped).
    await askExistingParts(base, uploadId, etags, sizeOf);
    item.state = 'uploading';
    report();
  }
  const parts = [...etags.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
  await send('POST', apiUrl(`${base}/${seg(uploadId)}/complete`), JSON.stringify({ parts }), { 'content-type': 'application/json' });
  item.uploadId = undefined;
}

/** Fills etags with the parts the server holds whole (a part cut short by the drop is sent again). */
async function askExistingParts(base: string, uploadId: string, etags: Map<number, string>, sizeOf: (n: number) => number): Promise<void> {
  const listing = json(await send('GET', apiUrl(`${base}/${seg(uploadId)}`), null, {})) as { parts?: { partNumber: number; size: number; etag: string }[] };
  etags.clear();
  for (const p of listing.parts ?? []) if (p.size === sizeOf(p.partNumber)) etags.set(p.partNumber, p.etag);
}

/** Runs the queue with a couple of files at a time. */
export async function uploadAll(bucket: string, items: UploadItem[], makePublic: boolean, changed: () => void): Promise<void> {
  const queue = items.filter((i) => i.state === 'waiting' || i.state === 'failed');
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await uploadOne(bucket, item, makePublic, changed);
  };
  await Promise.all([worker(), worker()]);
}
