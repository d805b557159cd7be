/**
 * A scoped key's limits (storage/keys.ts KeyScope), checked twice: per operation before its
 * handler runs (`refuseOutOfScope`, from dispatch), and per permission inside `authorize`, which
 * also covers what a handler checks for a second principal (PostObject's form signer, a copy's
 * source bucket).
 */
import { S3Error } from '../../errors/s3-error.js';
import type { Principal } from '../../auth/types.js';
import type { Grant } from '../../storage/types.js';
import type { KeyScope } from '../../storage/keys.js';
import type { Operation } from '../router.js';
import { ACTIONS } from './actions.js';

/** Actions a read-only key may do: reads and listings. */
const READ_ACTION = /^s3:(Get|List)/;
/** What read-write adds: writing objects, not configuring the bucket. */
const OBJECT_WRITE_ACTIONS = new Set(['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:PutObjectTagging', 's3:DeleteObjectTagging', 's3:PutObjectAcl']);

/** Throws AccessDenied, with the reason in plain words, when the operation is outside the caller's scope. */
export function refuseOutOfScope(principal: Principal, op: Operation): void {
  if (principal.kind !== 'user' || principal.credential.scope === undefined) return;
  const scope = principal.credential.scope;
  const action = ACTIONS[op.op];
  if (scope.bucket !== undefined) {
    if (op.op === 'CreateBucket' || op.op === 'DeleteBucket') throw new S3Error('AccessDenied', `This key is limited to bucket ${scope.bucket}: it cannot create or delete buckets.`);
    if ('bucket' in op && op.bucket !== scope.bucket) throw new S3Error('AccessDenied', `This key is limited to bucket ${scope.bucket}.`);
  }
  if (scope.access === 'read' && !READ_ACTION.test(action)) throw new S3Error('AccessDenied', 'This key is read-only.');
  if (scope.access === 'readwrite' && !READ_ACTION.test(action) && !OBJECT_WRITE_ACTIONS.has(action)) {
    throw new S3Error('AccessDenied', 'This key may read and write objects, not change bucket settings.');
  }
}

export interface ScopedAccess {
  bucket: string;
  permission: Grant['permission'];
  ownerOnly: boolean;
  /** An object-level check (object ACLs are within read-write; the bucket's are not). */
  onObject: boolean;
}

/** Why the scope refuses this access, or undefined when it is within it. */
export function scopeRefusal(scope: KeyScope, req: ScopedAccess): string | undefined {
  if (scope.bucket !== undefined && req.bucket !== scope.bucket) return `This key is limited to bucket ${scope.bucket}.`;
  if (scope.access === 'all') return undefined;
  const reads = req.permission === 'READ' || req.permission === 'READ_ACP';
  if (scope.access === 'read') return reads && !req.ownerOnly ? undefined : 'This key is read-only.';
  const writes = req.permission === 'WRITE' || (req.permission === 'WRITE_ACP' && req.onObject);
  return (reads || writes) && !req.ownerOnly ? undefined : 'This key may read and write objects, not change bucket settings.';
}
