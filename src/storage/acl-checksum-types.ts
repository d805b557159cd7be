/** The Store contract's ACL and checksum types (types.ts re-exports them). */
export type CannedAcl = 'private' | 'public-read' | 'public-read-write' | 'authenticated-read' | 'bucket-owner-read' | 'bucket-owner-full-control' | 'aws-exec-read' | 'log-delivery-write';

/** An explicit ACL grant, as in AccessControlPolicy XML. */
export interface Grant {
  grantee: { type: 'CanonicalUser'; id: string; displayName?: string } | { type: 'Group'; uri: string };
  permission: 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';
}

/** Either a canned ACL or the full list of grants (the owner is the resource's owner). */
export type Acl = { canned: CannedAcl } | { grants: Grant[] };

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Base64 of the digest, exactly as S3 returns it in `x-amz-checksum-*`. */
  value: string;
  /** FULL_OBJECT or COMPOSITE (multipart); single PUTs are FULL_OBJECT. */
  type: 'FULL_OBJECT' | 'COMPOSITE';
}
