/**
 * Small uploads to an explicit endpoint (offload serve, MinIO, R2...) without the SDK's
 * middleware stack: the same SigV4 signer the SDK uses (@smithy/signature-v4), one keep-alive
 * request. Building and signing a PutObject through the full client costs about 0.5 ms of CPU,
 * which made `offload sync` of thousands of small files bound by its own client; this path costs
 * about 0.1 ms (docs/cli.md). Anything but a plain success (an error answer, a dropped connection,
 * a header the lean path will not send) is left to the SDK, which retries, corrects clock skew and
 * reports errors as usual; AWS itself (no --endpoint) always goes through the SDK.
 */
import { clientEncrypts } from './encryption.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Sha256 } from '../admin-client.js';
import { uriEncode } from '../../auth/encoding.js';

export interface LeanPutInput {
  bucket: string;
  key: string;
  body: Buffer;
  md5Base64: string;
  contentType?: string;
  cacheControl?: string;
  acl?: string;
  metadata: Record<string, string>;
}

/** Resolves to the ETag, or to undefined when the SDK should do this upload instead. */
export type LeanPut = (input: LeanPutInput) => Promise<string | undefined>;

interface Endpoint {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
}

/** A lean uploader for this client, or undefined when it talks to AWS (or anything not path-style). */
export async function leanPutFor(client: S3Client, concurrency: number): Promise<LeanPut | undefined> {
  const config = client.config as unknown as { forcePathStyle?: boolean; endpoint?: () => Promise<Endpoint> };
  if (!config.forcePathStyle || typeof config.endpoint !== 'function' || clientEncrypts(client)) return undefined;
  const endpoint = await config.endpoint();
  const region = await client.config.region();
  const https = endpoint.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency }) : new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const send = https ? httpsRequest : httpRequest;
  const host = endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname;
  const base = endpoint.path.replace(/\/$/, '');
  let signer: SignatureV4 | undefined;
  return async (input) => {
    const headers: Record<string, string> = {
      host,
      'content-length': String(input.body.length),
      'content-md5': input.md5Base64,
      'x-amz-content-sha256': createHash('sha256').update(input.body).digest('hex'),
    };
    if (input.contentType !== undefined) headers['content-type'] = input.contentType;
    if (input.cacheControl !== undefined) headers['cache-control'] = input.cacheControl;
    if (input.acl !== undefined) headers['x-amz-acl'] = input.acl;
    for (const [name, value] of Object.entries(input.metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
    // Header values Node would refuse, or that the SDK encodes its own way: the SDK's job.
    if (Object.values(headers).some((v) => !/^[\x20-\x7e]*$/.test(v))) return undefined;
    const path = `${base}/${uriEncode(input.bucket, false)}/${uriEncode(input.key, true)}`;
    try {
      signer ??= new SignatureV4({ service: 's3', region, credentials: client.config.credentials, sha256: Sha256, uriEscapePath: false });
      const signed = await signer.sign({ method: 'PUT', protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port, path, query: {}, headers });
      const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
        const req = send({ agent, method: 'PUT', host: endpoint.hostname, port: endpoint.port, path, headers: signed.headers }, (res) => {
          res.resume();
          res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end(input.body);
      });
      if (answer.status !== 200) return undefined;
      const etag = answer.headers.etag;
      return typeof etag === 'string' ? etag : '';
    } catch {
      return undefined;
    }
  };
}
