/**
 * Content hashes: MD5 of a file (what a single-part ETag is) and, in the same pass, the
 * multipart ETag S3 would give it when uploaded with a given part size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const MIN_PART = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

/** Part size for a file: the chunk size, doubled until the file fits in 10,000 parts. */
export function partSizeFor(size: number, chunkSize: number): number {
  let part = Math.max(MIN_PART, chunkSize);
  while (Math.ceil(size / part) > MAX_PARTS) part *= 2;
  return part;
}

export interface MultipartSettings {
  /** Files larger than this go in parts. */
  threshold: number;
  /** Preferred part size. */
  chunkSize: number;
}

/** Part size when this file will be uploaded in parts, else undefined (a single PUT). */
export function multipartPartSize(size: number, settings: MultipartSettings): number | undefined {
  if (size <= settings.threshold) return undefined;
  const part = partSizeFor(size, settings.chunkSize);
  return size > part ? part : undefined;
}

export interface FileHash {
  md5: string;
  /** ETag of a multipart upload with partSize, e.g. "9b2cf535f27731c974343645a3985328-3". */
  multipartEtag?: string;
  partSize?: number;
}

export async function hashFile(path: string, partSize?: number): Promise<FileHash> {
  const whole = createHash('md5');
  const partDigests: Buffer[] = [];
  let part = partSize ? createHash('md5') : undefined;
  let inPart = 0;
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    whole.update(chunk);
    if (!part || !partSize) continue;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(partSize - inPart, chunk.length - offset);
      part.update(chunk.subarray(offset, offset + take));
      inPart += take;
      offset += take;
      if (inPart === partSize) {
        partDigests.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  const md5 = whole.digest('hex');
  if (!partSize || !part) return { md5 };
  if (inPart > 0) partDigests.push(part.digest());
  const multipartEtag = `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${partDigests.length}`;
  return { md5, multipartEtag, partSize };
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** ETag without quotes, lower case. */
export function cleanEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

export function isMultipartEtag(etag: string): boolean {
  return /-\d+$/.test(etag);
}

/** True/false when the ETag settles whether the local file has the same bytes; undefined when it cannot. */
export function etagMatches(remoteEtag: string, local: FileHash): boolean | undefined {
  const etag = cleanEtag(remoteEtag);
  if (!isMultipartEtag(etag)) return /^[0-9a-f]{32}$/.test(etag) ? etag === local.md5 : undefined;
  if (local.multipartEtag === etag) return true;
  return undefined;
}
