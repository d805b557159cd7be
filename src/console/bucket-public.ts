/**
 * A bucket's public state, as the CLI's `offload public` sets it: a bucket policy statement
 * letting anyone GET its objects (Sid PublicReadGetObject, other statements kept).
 */
import { ALL_USERS } from '../s3/access/authorize.js';
import { child, children, childText, parseXml } from '../s3/xml.js';
import type { SignedInCall } from './deps.js';
import { runS3Text, s3Allows } from './s3-call.js';
import { isS3Error } from '../errors/s3-error.js';

/** The statement cli/s3/bucket.ts's publicReadStatement writes (the same Sid, so either tool can undo the other). */
export const PUBLIC_SID = 'PublicReadGetObject';
const publicStatement = (bucket: string) => ({ Sid: PUBLIC_SID, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` });

type PolicyDoc = { Version?: string; Statement?: unknown };

async function currentPolicy(call: SignedInCall, bucket: string): Promise<PolicyDoc | undefined> {
  try {
    return JSON.parse((await runS3Text(call, { method: 'GET', bucket, query: { policy: '' } })).text) as PolicyDoc;
  } catch (err) {
    if (isS3Error(err) && err.code === 'NoSuchBucketPolicy') return undefined;
    throw err;
  }
}

export async function setBucketPublic(call: SignedInCall, bucket: string, wanted: boolean): Promise<void> {
  const policy = await currentPolicy(call, bucket);
  const list = Array.isArray(policy?.Statement) ? (policy.Statement as unknown[]) : policy?.Statement ? [policy.Statement] : [];
  const others = list.filter((s) => (s as { Sid?: string }).Sid !== PUBLIC_SID);
  const statements = wanted ? [...others, publicStatement(bucket)] : others;
  if (statements.length > 0) {
    const doc = JSON.stringify({ ...policy, Version: policy?.Version ?? '2012-10-17', Statement: statements });
    await runS3Text(call, { method: 'PUT', bucket, query: { policy: '' }, body: doc, headers: { 'content-type': 'application/json' } });
  } else if (policy) {
    await runS3Text(call, { method: 'DELETE', bucket, query: { policy: '' } });
  }
  // Private means private: a public-read ACL would still let visitors in.
  if (!wanted && (await aclIsPublic(call, bucket))) await runS3Text(call, { method: 'PUT', bucket, query: { acl: '' }, headers: { 'x-amz-acl': 'private' } });
}

/** Public when its policy status says so, or its ACL grants everyone READ. */
export async function bucketIsPublic(call: SignedInCall, bucket: string): Promise<boolean> {
  try {
    const status = await runS3Text(call, { method: 'GET', bucket, query: { policyStatus: '' } });
    if (childText(child(parseXml(status.text), 'PolicyStatus'), 'IsPublic') === 'true') return true;
  } catch (err) {
    if (!isS3Error(err)) throw err;
  }
  return aclIsPublic(call, bucket);
}

async function aclIsPublic(call: SignedInCall, bucket: string): Promise<boolean> {
  try {
    const acl = child(parseXml((await runS3Text(call, { method: 'GET', bucket, query: { acl: '' } })).text), 'AccessControlPolicy');
    return children(child(acl, 'AccessControlList'), 'Grant').some((g) => childText(child(g, 'Grantee'), 'URI') === ALL_USERS);
  } catch (err) {
    if (isS3Error(err)) return false;
    throw err;
  }
}

/** Whether a visitor without a key may GET this object (the same check a visitor's request gets). */
export function objectIsPublic(call: SignedInCall, bucket: string, key: string): Promise<boolean> {
  return s3Allows(call, { method: 'HEAD', bucket, key, anonymous: true });
}
