/**
 * Who may do what. Root keys may do anything; a bucket's owner may do anything to it;
 * everyone else gets what the ACL grants (canned ACLs expand to S3's documented grants).
 * A bucket policy's explicit Deny beats everything but the root keys; its Allow adds to the ACLs.
 * A scoped key (storage/keys.ts KeyScope) is limited first: to its bucket, and to its access
 * (read, readwrite); on its bucket the scope is also a grant, given by the root who made the key.
 */
import { S3Error } from '../../errors/s3-error.js';
import type { Principal } from '../../auth/types.js';
import type { Acl, BucketInfo, Grant } from '../../storage/types.js';
import type { Decision } from './bucket-policy.js';
import type { KeyScope } from '../../storage/keys.js';
import { scopeRefusal } from './key-scope.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

export type Permission = Grant['permission'];

/** The grants a canned ACL stands for, given the resource owner (and the bucket owner, for objects). */
export function expandAcl(acl: Acl, owner: string, bucketOwner = owner): Grant[] {
  if ('grants' in acl) return acl.grants;
  const ownerFull: Grant = { grantee: { type: 'CanonicalUser', id: owner }, permission: 'FULL_CONTROL' };
  const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });
  switch (acl.canned) {
    case 'public-read': return [ownerFull, group(ALL_USERS, 'READ')];
    case 'public-read-write': return [ownerFull, group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')];
    case 'authenticated-read': return [ownerFull, group(AUTHENTICATED_USERS, 'READ')];
    case 'bucket-owner-read': return [ownerFull, { grantee: { type: 'CanonicalUser', id: bucketOwner }, permission: 'READ' }];
    case 'bucket-owner-full-control': return [ownerFull, { grantee: { type: 'CanonicalUser', id: bucketOwner }, permission: 'FULL_CONTROL' }];
    default: return [ownerFull];
  }
}

/** Whether the grants give `principal` the permission (FULL_CONTROL implies all). */
export function grantsAllow(grants: Grant[], principal: Principal, permission: Permission): boolean {
  return grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    const who = g.grantee;
    if (who.type === 'Group') {
      if (who.uri === ALL_USERS) return true;
      return who.uri === AUTHENTICATED_USERS && principal.kind === 'user';
    }
    return principal.kind === 'user' && principal.credential.owner === who.id;
  });
}

export interface AccessRequest {
  principal: Principal;
  rootOwner: string;
  bucket: BucketInfo;
  /** The permission the operation needs on the bucket or object. */
  permission: Permission;
  /** For object operations that read/modify an existing object: its ACL and owner. */
  object?: { acl: Acl; owner: string };
  /** Operations only the owner may do (bucket configuration). */
  ownerOnly?: boolean;
  /**
   * Operations no ACL grants (ListParts, AbortMultipartUpload, object tagging): AWS lets the
   * bucket owner, the object owner or the upload's initiator do them, and others only through a
   * bucket policy. READ on a bucket is ListBucket, not ListParts.
   */
  notByAcl?: { initiator?: string };
  /** What the bucket policy says about this request ('Default' when there is none). */
  policy?: Decision;
  /** Object Ownership and Public Access Block settings of the bucket (public-access-controls.ts). */
  controls?: { aclsDisabled: boolean; ignorePublicAcls: boolean; restrictPublicPolicy: boolean };
}

export function isOwnerOrRoot(principal: Principal, owner: string, rootOwner: string): boolean {
  if (principal.kind !== 'user') return false;
  return principal.credential.owner === rootOwner || principal.credential.owner === owner;
}

/** Throws AccessDenied unless the request is allowed. */
export function authorize(req: AccessRequest): void {
  // The root keys are the administrator's: no policy can lock them out of their own server.
  if (req.principal.kind === 'user' && req.principal.credential.owner === req.rootOwner) return;
  const scope = req.principal.kind === 'user' ? req.principal.credential.scope : undefined;
  if (scope) {
    const refusal = scopeRefusal(scope, { bucket: req.bucket.name, permission: req.permission, ownerOnly: req.ownerOnly === true, onObject: req.object !== undefined || req.notByAcl !== undefined });
    if (refusal) throw new S3Error('AccessDenied', refusal);
  }
  if (req.policy === 'Deny') throw new S3Error('AccessDenied');
  if (isOwnerOrRoot(req.principal, req.bucket.owner, req.rootOwner)) return;
  // Within its limits (checked above), a key scoped to this bucket may use it.
  if (scope?.bucket === req.bucket.name) return;
  if (req.ownerOnly) throw new S3Error('AccessDenied');
  const controls = req.controls;
  if (req.notByAcl) {
    const caller = req.principal.kind === 'user' ? req.principal.credential.owner : undefined;
    if (caller !== undefined && (caller === req.notByAcl.initiator || caller === req.object?.owner)) return;
    if (req.policy === 'Allow' && !(controls?.restrictPublicPolicy && req.principal.kind === 'anonymous')) return;
    throw new S3Error('AccessDenied');
  }
  // RestrictPublicBuckets: a public policy no longer lets anonymous callers in.
  if (req.policy === 'Allow' && !(controls?.restrictPublicPolicy && req.principal.kind === 'anonymous')) return;
  // BucketOwnerEnforced: ACLs are off; only owners and policies decide.
  if (controls?.aclsDisabled) throw new S3Error('AccessDenied');
  const effective = (grants: Grant[]) => (controls?.ignorePublicAcls ? grants.filter((g) => g.grantee.type !== 'Group') : grants);
  if (req.object) {
    if (req.principal.kind === 'user' && req.principal.credential.owner === req.object.owner) return;
    if (grantsAllow(effective(expandAcl(req.object.acl, req.object.owner, req.bucket.owner)), req.principal, req.permission)) return;
    // A public-read bucket makes its objects readable too (what media buckets are made for).
    if (req.permission === 'READ' && grantsAllow(effective(bucketGrants(req.bucket)), req.principal, 'READ')) return;
    throw new S3Error('AccessDenied');
  }
  if (grantsAllow(effective(bucketGrants(req.bucket)), req.principal, req.permission)) return;
  throw new S3Error('AccessDenied');
}

/** Whether ListBuckets shows this bucket to the caller: root sees all, a key its own buckets, a scoped key only its bucket. */
export function listsBucket(principal: Principal, bucket: BucketInfo, rootOwner: string): boolean {
  if (principal.kind !== 'user') return false;
  const scope: KeyScope | undefined = principal.credential.scope;
  if (scope?.bucket !== undefined) return bucket.name === scope.bucket;
  return principal.credential.owner === rootOwner || principal.credential.owner === bucket.owner;
}

function bucketGrants(bucket: BucketInfo): Grant[] {
  return expandAcl(bucket.acl, bucket.owner);
}
