/** Listing object versions and bringing one back: what `offload versions` and `offload restore` share. */
import { CopyObjectCommand, DeleteObjectCommand, GetBucketVersioningCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { withRetry } from './retry.js';

export interface VersionLine {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  lastModified?: Date;
}

/** Every version and delete marker under the prefix (exactly `key` when `exact`), in S3's order, a page at a time. */
export async function* listVersions(client: S3Client, bucket: string, prefix: string, exact = false): AsyncGenerator<VersionLine> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await withRetry(() => client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker })));
    const lines: VersionLine[] = [
      ...(page.Versions ?? []).map((v) => ({ key: v.Key ?? '', versionId: v.VersionId ?? 'null', isLatest: v.IsLatest === true, deleteMarker: false, size: v.Size ?? 0, lastModified: v.LastModified })),
      ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key ?? '', versionId: m.VersionId ?? 'null', isLatest: m.IsLatest === true, deleteMarker: true, size: 0, lastModified: m.LastModified })),
    ];
    // The SDK hands versions and markers back as two lists: put them back in S3's one order.
    lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0) || (a.isLatest ? -1 : b.isLatest ? 1 : 0)));
    for (const line of lines) if (!exact || line.key === prefix) yield line;
    if (!page.IsTruncated) return;
    if (exact && page.NextKeyMarker !== undefined && page.NextKeyMarker > prefix) return;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

export async function versioningStatus(client: S3Client, bucket: string): Promise<'Enabled' | 'Suspended' | undefined> {
  const status = (await withRetry(() => client.send(new GetBucketVersioningCommand({ Bucket: bucket })))).Status;
  return status === 'Enabled' || status === 'Suspended' ? status : undefined;
}

export type RestoreOutcome = { action: 'removed-marker' | 'copied' | 'current'; versionId: string };

/**
 * Brings back one key. Without a version: removes the delete marker that hides it (the version
 * before it is current again). With one: a delete marker named is removed; an older version is
 * copied onto the key, becoming the newest version (nothing is lost: the old current stays a version).
 */
export async function restoreKey(client: S3Client, bucket: string, key: string, versionId?: string): Promise<RestoreOutcome | undefined> {
  const versions: VersionLine[] = [];
  for await (const v of listVersions(client, bucket, key, true)) versions.push(v);
  const latest = versions.find((v) => v.isLatest);
  const target = versionId === undefined ? (latest?.deleteMarker ? latest : undefined) : versions.find((v) => v.versionId === versionId);
  if (versionId === undefined && latest && !latest.deleteMarker) return { action: 'current', versionId: latest.versionId };
  if (!target) return undefined;
  if (target.deleteMarker) {
    if (!target.isLatest) return undefined;
    await withRetry(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: target.versionId })));
    return { action: 'removed-marker', versionId: target.versionId };
  }
  if (target.isLatest) return { action: 'current', versionId: target.versionId };
  const source = `${encodeURIComponent(bucket)}/${encodeURIComponent(key).replace(/%2F/g, '/')}?versionId=${encodeURIComponent(target.versionId)}`;
  await withRetry(() => client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: source })));
  return { action: 'copied', versionId: target.versionId };
}
