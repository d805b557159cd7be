/**
 * Authenticated existence check for `offload check --endpoint`: anonymous requests answer 403 for
 * missing objects when listing is private, so with credentials in the environment
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, optional AWS_REGION) check asks the endpoint itself.
 * Kept apart from the `offload/media` helper, which must not load the AWS SDK.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';

export function objectExistsFromEnv(endpoint: string, env: NodeJS.ProcessEnv = process.env): ((bucket: string, key: string) => Promise<boolean | undefined>) | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const client = new S3Client({
    endpoint,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN },
    maxAttempts: 2,
  });
  return async (bucket, key) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
      return undefined;
    }
  };
}
