/**
 * `offload migrate` for a bucket that has had versioning: every version and delete marker of
 * each key is replayed into the target oldest first, so that the target holds the same history
 * in the same order (the same latest version, the same noncurrent ones behind it, the same
 * markers). The null version is written with the target bucket Suspended (that is what makes a
 * write the null version), every other with it Enabled; the source's state is set last. Version
 * ids and Last-Modified are the target's own: the Store contract has no way to set them.
 */
import type { ObjectMeta, Store, VersioningState } from './types.js';

export interface VersionCopyReport {
  versions: number;
  markers: number;
  bytes: number;
}

/**
 * Copies the history of every key of `bucket` (the target bucket exists, empty). copyVersion
 * writes one version (its bytes and headers) into the target as store-copy.ts does for current
 * objects, and says whether it was still there.
 */
export async function copyVersions(from: Store, to: Store, bucket: string, copyVersion: (meta: ObjectMeta) => Promise<boolean>): Promise<VersionCopyReport> {
  const report: VersionCopyReport = { versions: 0, markers: 0, bytes: 0 };
  let state: VersioningState | undefined;
  const setState = async (want: VersioningState) => {
    if (state === want) return;
    await to.setBucketConfig(bucket, 'versioning', want);
    state = want;
  };
  for await (const history of keyHistories(from, bucket)) {
    // Oldest first: each write makes the one before it noncurrent, as it was on the source.
    for (const version of history.reverse()) {
      await setState(version.versionId === undefined ? 'Suspended' : 'Enabled');
      if (version.deleteMarker) {
        await to.deleteObject(bucket, version.key);
        report.markers++;
        continue;
      }
      if (!(await copyVersion(version))) continue;
      report.versions++;
      report.bytes += version.size;
    }
  }
  const final = from.getBucketConfig(bucket, 'versioning');
  if (final === 'Enabled' || final === 'Suspended') await setState(final);
  return report;
}

/** Each key's versions and markers, newest first, one key at a time, in key order. */
async function* keyHistories(store: Store, bucket: string): AsyncGenerator<ObjectMeta[]> {
  let marker: { keyMarker?: string; versionIdMarker?: string } = {};
  let current: ObjectMeta[] = [];
  for (;;) {
    const page = await store.listObjectVersions!({ bucket, maxKeys: 1000, ...marker });
    for (const { meta } of page.versions) {
      if (current.length && current[0]!.key !== meta.key) {
        yield current;
        current = [];
      }
      current.push(meta);
    }
    if (!page.isTruncated) break;
    marker = { keyMarker: page.nextKeyMarker, versionIdMarker: page.nextVersionIdMarker };
  }
  if (current.length) yield current;
}
