/** Clients pointed at a test server: the AWS SDK v3 (default checksums left on) and anonymous fetch. */
import { S3Client } from '@aws-sdk/client-s3';
import type { TestServer } from './server.js';

export function sdkClient(server: TestServer, opts: { forcePathStyle?: boolean; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: opts.forcePathStyle ?? true,
    credentials: opts.credentials ?? { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
}

/** Environment for CLI peers (aws, s3cmd, rclone, boto3) talking to the test server. */
export function peerEnv(server: TestServer, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_REGION: server.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  // rclone refuses plain-http endpoints when a CA bundle is forced on it.
  delete env.AWS_CA_BUNDLE;
  delete env.AWS_PROFILE;
  return env;
}
