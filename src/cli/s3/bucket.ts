/** Bucket-level settings: the public-read policy and CORS rules for browsers. */
import {
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  type CORSRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorCode } from './errors.js';
import { withRetry } from './retry.js';

export const PUBLIC_SID = 'PublicReadGetObject';

/** The AWS-documented public-read statement: anyone may GET any object of the bucket. */
export function publicReadStatement(bucket: string) {
  return { Sid: PUBLIC_SID, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };
}

interface PolicyDoc {
  Version?: string;
  Statement?: unknown[] | unknown;
  [k: string]: unknown;
}

/** Adds (or replaces) the public-read statement, keeping any other statements of the policy. */
export async function makePublic(client: S3Client, bucket: string, opts: { unblock?: boolean } = {}): Promise<void> {
  let policy: PolicyDoc = { Version: '2012-10-17', Statement: [] };
  try {
    const current = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    if (current.Policy) policy = JSON.parse(current.Policy) as PolicyDoc;
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'NoSuchBucketPolicy' && code !== 'NotImplemented' && code !== 'MethodNotAllowed' && code !== 'NotFound') throw err;
  }
  const statements = (Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : []).filter(
    (s) => (s as { Sid?: string }).Sid !== PUBLIC_SID,
  );
  policy = { ...policy, Version: policy.Version ?? '2012-10-17', Statement: [...statements, publicReadStatement(bucket)] };
  if (opts.unblock) {
    await withRetry(() =>
      client.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
        }),
      ),
    );
  }
  try {
    await withRetry(() => client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) })));
  } catch (err) {
    if (!opts.unblock && errorCode(err) === 'AccessDenied' && (await blocksPublicPolicy(client, bucket))) {
      throw new Error(`${bucket} blocks public bucket policies (S3 Block Public Access); add --unblock to allow a public-read policy on this bucket`);
    }
    throw err;
  }
}

async function blocksPublicPolicy(client: S3Client, bucket: string): Promise<boolean> {
  try {
    const res = await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    return !!res.PublicAccessBlockConfiguration?.BlockPublicPolicy;
  } catch {
    return false;
  }
}

export const EXPOSE_HEADERS = ['ETag', 'Content-Length', 'Content-Type', 'Content-Range', 'Accept-Ranges', 'Last-Modified', 'Cache-Control'];

export function corsRule(origins: string[], maxAgeSeconds = 3000): CORSRule {
  return {
    AllowedOrigins: origins,
    AllowedMethods: ['GET', 'HEAD'],
    AllowedHeaders: ['*'],
    ExposeHeaders: EXPOSE_HEADERS,
    MaxAgeSeconds: maxAgeSeconds,
  };
}

export async function putCors(client: S3Client, bucket: string, rule: CORSRule): Promise<void> {
  await withRetry(() => client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } })));
}
