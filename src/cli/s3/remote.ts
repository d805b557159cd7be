/** Bucket listings and object heads, paginated and retried. */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { cleanEtag } from './hash.js';
import { errorCode, httpStatus } from './errors.js';
import { withRetry } from './retry.js';
import { CACHE_SOURCE_HEADER } from '../../media/cache-rules.js';

export interface RemoteObject {
  key: string;
  size: number;
  /** Without quotes, lower case. */
  etag: string;
  lastModified: Date;
}

/** Every object under a prefix (one listing pass), sorted by key. */
export async function listAll(client: S3Client, bucket: string, prefix: string): Promise<RemoteObject[]> {
  const out: RemoteObject[] = [];
  let token: string | undefined;
  do {
    const page = await withRetry(() =>
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: 1000 })),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      out.push({ key: o.Key, size: o.Size ?? 0, etag: cleanEtag(o.ETag), lastModified: o.LastModified ?? new Date(0) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface RemoteHead {
  size: number;
  etag: string;
  contentType?: string;
  /** The stored Cache-Control (undefined when the object has none). */
  cacheControl?: string;
  metadata: Record<string, string>;
  lastModified?: Date;
}

/** HEAD of an object, or undefined when it does not exist. */
export async function headObject(client: S3Client, bucket: string, key: string): Promise<RemoteHead | undefined> {
  try {
    let filledIn = false;
    const h = await withRetry(() => {
      const command = new HeadObjectCommand({ Bucket: bucket, Key: key });
      // The SDK drops headers it does not model: read the raw response for Offload's provenance header.
      command.middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          const headers = (result.response as { headers?: Record<string, string> } | undefined)?.headers;
          filledIn = !!headers?.[CACHE_SOURCE_HEADER];
          return result;
        },
        { step: 'deserialize', name: 'offloadCacheControlSource' },
      );
      return client.send(command);
    });
    return {
      size: h.ContentLength ?? 0,
      etag: cleanEtag(h.ETag),
      contentType: h.ContentType,
      // A Cache-Control the server filled in (bucket rule, default) is not stored with the object.
      cacheControl: filledIn ? undefined : h.CacheControl,
      metadata: h.Metadata ?? {},
      lastModified: h.LastModified,
    };
  } catch (err) {
    if (httpStatus(err) === 404 || errorCode(err) === 'NotFound' || errorCode(err) === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Metadata key holding the MD5 of the whole content (set on every upload; multipart ETags are not MD5s). */
export const MD5_META = 'md5';
