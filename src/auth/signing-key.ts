/** SigV4 signing keys, cached: deriving one costs four HMACs and it changes once a day per key. */
import { createHmac } from 'node:crypto';

const cache = new Map<string, Buffer>();
const MAX_CACHED = 1024;

export function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = cache.get(id);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(id, key);
  }
  return key;
}
