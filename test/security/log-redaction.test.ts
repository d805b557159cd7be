/**
 * Item 10: the access log must not keep what replays a presigned URL. Presigned V4 and V2 GETs
 * (and a URL carrying a session token) are logged with their signatures and tokens redacted;
 * the access key ids may stay. The server's own output is grepped too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutBucketLoggingCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;
let output = '';

beforeAll(async () => {
  server = await startServer();
  server.process.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  server.process.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'redact' }));
  await s3.send(new PutObjectCommand({ Bucket: 'redact', Key: 'secret.txt', Body: 'private bytes' }));
  await s3.send(new PutBucketLoggingCommand({ Bucket: 'redact', BucketLoggingStatus: { LoggingEnabled: { TargetBucket: 'redact', TargetPrefix: 'logs/' } } }));
});

afterAll(async () => {
  s3.destroy();
  await server.stop();
});

function presignV2(path: string, expires: number): string {
  const stringToSign = `GET\n\n\n${expires}\n${path}`;
  const signature = createHmac('sha1', server.secretAccessKey).update(stringToSign).digest('base64');
  return `${server.endpoint}${path}?AWSAccessKeyId=${server.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(signature)}`;
}

describe('access log redaction', () => {
  it('keeps no presigned signature or session token in any log line', async () => {
    const v4 = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'redact', Key: 'secret.txt' }), { expiresIn: 600 });
    const v4Signature = new URL(v4).searchParams.get('X-Amz-Signature')!;
    expect(v4Signature).toMatch(/^[0-9a-f]{64}$/);
    const v4Response = await fetch(v4);
    expect(v4Response.status).toBe(200);
    expect(await v4Response.text()).toBe('private bytes');

    const v2 = presignV2('/redact/secret.txt', Math.floor(Date.now() / 1000) + 600);
    const v2Signature = new URL(v2).searchParams.get('Signature')!;
    const v2Response = await fetch(v2);
    expect(v2Response.status).toBe(200);
    await v2Response.arrayBuffer();

    // A token the signature does not cover: refused, and still logged without it.
    const token = 'SESSIONTOKENSHOULDNEVERBELOGGED0123456789';
    const withToken = await fetch(`${v4}&X-Amz-Security-Token=${token}`);
    expect(withToken.status).toBe(403);
    await withToken.arrayBuffer();
    // Odd spellings of the parameter names are redacted too.
    const oddCase = await fetch(v4.replace('X-Amz-Signature=', 'x-amz-signature=').replace('X-Amz-Credential', 'X-Amz-Credential'));
    await oddCase.arrayBuffer();

    await server.stop({ keepData: true });
    const logDir = join(server.dataDir, 'logs');
    const log = readdirSync(logDir).map((name) => readFileSync(join(logDir, name), 'utf8')).join('');
    const lines = log.split('\n').filter((l) => l.includes('secret.txt'));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [v4Signature, v2Signature, encodeURIComponent(v2Signature), token]) {
      expect(log).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
    expect(log).toContain('X-Amz-Signature=REDACTED');
    expect(log).toContain('x-amz-signature=REDACTED');
    expect(log).toContain('Signature=REDACTED');
    expect(log).toContain('X-Amz-Security-Token=REDACTED');
    // Who signed stays visible: the access key ids are not secrets.
    expect(log).toContain(`AWSAccessKeyId=${server.accessKeyId}`);
    expect(log).toContain(`X-Amz-Credential=${server.accessKeyId}`);
    server = await startServer({ dataDir: server.dataDir });
  });
});
