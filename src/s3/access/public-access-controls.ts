/**
 * The two bucket settings AWS uses to make "public" deliberate: Object Ownership (with
 * BucketOwnerEnforced, ACLs are off and requests that set one are refused) and the Public Access
 * Block (refuse or ignore public ACLs, refuse or ignore public policies). New AWS buckets have
 * both on; here a bucket has neither until someone sets them, as on the S3 API before 2023.
 */
import { S3Error } from '../../errors/s3-error.js';
import { ALL_USERS, AUTHENTICATED_USERS } from './authorize.js';
import type { IncomingHttpHeaders } from 'node:http';
import { aclFromHeaders } from './acl-grants.js';
import type { Acl, Store } from '../../storage/types.js';

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
export const OWNERSHIP_VALUES: readonly ObjectOwnership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}
export const BLOCK_FIELDS: readonly (keyof PublicAccessBlock)[] = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];

export interface BucketControls {
  /** ACLs play no part in access decisions (BucketOwnerEnforced). */
  aclsDisabled: boolean;
  /** Grants to AllUsers/AuthenticatedUsers are ignored (IgnorePublicAcls). */
  ignorePublicAcls: boolean;
  /** A public policy's Allow only counts for the owner's own keys (RestrictPublicBuckets). */
  restrictPublicPolicy: boolean;
}

export function objectOwnership(store: Store, bucket: string): ObjectOwnership | undefined {
  return store.getBucketConfig(bucket, 'ownership') as ObjectOwnership | undefined;
}

export function publicAccessBlock(store: Store, bucket: string): PublicAccessBlock | undefined {
  const stored = store.getBucketConfig(bucket, 'public-access-block');
  return stored === undefined ? undefined : (JSON.parse(stored) as PublicAccessBlock);
}

export function bucketControls(store: Store, bucket: string): BucketControls {
  const block = publicAccessBlock(store, bucket);
  return {
    aclsDisabled: objectOwnership(store, bucket) === 'BucketOwnerEnforced',
    ignorePublicAcls: block?.IgnorePublicAcls === true,
    restrictPublicPolicy: block?.RestrictPublicBuckets === true,
  };
}

export function isPublicAcl(acl: Acl): boolean {
  if ('canned' in acl) return acl.canned === 'public-read' || acl.canned === 'public-read-write' || acl.canned === 'authenticated-read';
  return acl.grants.some((g) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS));
}

/** Checks an ACL a request asks to set (undefined: none asked) against the bucket's controls. */
export function checkRequestedAcl(store: Store, bucket: string, acl: Acl | undefined): void {
  if (acl === undefined) return;
  if (objectOwnership(store, bucket) === 'BucketOwnerEnforced' && !('canned' in acl && acl.canned === 'bucket-owner-full-control')) {
    throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs');
  }
  if (publicAccessBlock(store, bucket)?.BlockPublicAcls && isPublicAcl(acl)) {
    throw new S3Error('AccessDenied', 'Access Denied: the bucket\'s public access block refuses public ACLs');
  }
}

/** The ACL a write request's headers ask for (x-amz-acl, x-amz-grant-*), checked against the bucket's controls. */
export function requestedAclHeaders(store: Store, bucket: string, headers: IncomingHttpHeaders): Acl | undefined {
  const acl = aclFromHeaders(headers);
  checkRequestedAcl(store, bucket, acl);
  return acl;
}

/**
 * Who owns a new object: its writer, or the bucket's owner when Object Ownership says so
 * (BucketOwnerEnforced always; BucketOwnerPreferred when the writer grants bucket-owner-full-control).
 */
export function newObjectOwner(store: Store, bucket: string, writer: string, acl: Acl | undefined): string {
  const ownership = objectOwnership(store, bucket);
  const owner = store.getBucket(bucket)?.owner;
  if (owner === undefined) return writer;
  if (ownership === 'BucketOwnerEnforced') return owner;
  if (ownership === 'BucketOwnerPreferred' && acl !== undefined && 'canned' in acl && acl.canned === 'bucket-owner-full-control') return owner;
  return writer;
}
