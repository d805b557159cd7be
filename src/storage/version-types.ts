/** The Store contract's types for object versions (types.ts re-exports them). */
/** A bucket's versioning state: absent (never enabled), Enabled or Suspended (versioning.ts). */
export type VersioningState = 'Enabled' | 'Suspended';

/** Which version a read or write addresses: the current one (undefined), or one by id ('null' is the null version). */
export interface VersionSelector {
  versionId?: string;
  /** Without versionId: answer with the latest version even when it is a delete marker. */
  latestEvenIfMarker?: boolean;
}

export interface ListVersionsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  /** Continue after this key (all of its versions, unless versionIdMarker names one of them). */
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number;
}

/** Bytes a bucket's objects hold, the current versions and the noncurrent ones (and delete markers) apart. */
export interface VersionUsage {
  currentBytes: number;
  currentObjects: number;
  noncurrentBytes: number;
  noncurrentVersions: number;
  deleteMarkers: number;
}
