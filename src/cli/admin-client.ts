/**
 * Requests to an Offload server's own API (`/_offload/...`), signed with SigV4 by the root
 * credentials exactly as S3 requests are, so the server checks them with the same code.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { type Command, Option } from 'commander';
import { SignatureV4 } from '@smithy/signature-v4';
import { uriEncode } from '../auth/encoding.js';

export interface AdminConnection {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The connection options every admin command takes. */
export function addAdminOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--endpoint <url>', 'the Offload server').env('AWS_ENDPOINT_URL'))
    .addOption(new Option('--region <region>', 'region the server signs for').env('AWS_REGION').default('us-east-1'))
    .addOption(new Option('--access-key <id>', 'root access key id').env('AWS_ACCESS_KEY_ID'))
    .addOption(new Option('--secret-key <secret>', 'root secret access key').env('AWS_SECRET_ACCESS_KEY'));
}

export function adminConnection(opts: { endpoint?: string; region?: string; accessKey?: string; secretKey?: string }): AdminConnection {
  if (!opts.endpoint) throw new Error('no server: give --endpoint or set AWS_ENDPOINT_URL');
  if (!opts.accessKey || !opts.secretKey) throw new Error('no credentials: give --access-key/--secret-key or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the root key)');
  return { endpoint: opts.endpoint, region: opts.region ?? 'us-east-1', accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey };
}

/** One signed request; the body's SHA-256 is signed too, so the server can verify it. */
export async function signedRequest(conn: AdminConnection, method: string, path: string, opts: { query?: Record<string, string>; body?: string } = {}): Promise<Response> {
  if (!/^https?:\/\/[^/]/i.test(conn.endpoint)) throw new Error(`--endpoint must be an http:// or https:// URL, got ${conn.endpoint}`);
  const base = new URL(conn.endpoint);
  const fullPath = `${base.pathname.replace(/\/$/, '')}${path}`;
  const query = opts.query ?? {};
  const signer = new SignatureV4({
    service: 's3',
    region: conn.region,
    credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const payloadHash = opts.body === undefined ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(opts.body).digest('hex');
  const signed = await signer.sign({
    method,
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port ? Number(base.port) : undefined,
    path: fullPath,
    query,
    headers: { host: base.host, 'x-amz-content-sha256': payloadHash },
    body: opts.body,
  });
  const target = new URL(fullPath, base);
  // RFC 3986 encoding, as in the signature's canonical query (URLSearchParams would send spaces as '+').
  target.search = Object.entries(query).map(([k, v]) => `${uriEncode(k, false)}=${uriEncode(v, false)}`).join('&');
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== 'host'));
  try {
    return await fetch(target, { method, headers, body: opts.body });
  } catch (err) {
    throw new Error(`cannot reach ${conn.endpoint}: ${(err as Error).message}`);
  }
}

/** The JSON body of a successful answer, or an error carrying the server's reason (its S3 error code and message). */
export async function jsonOrThrow<T>(res: Response, endpoint: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    // The admin API answers errors as S3 does, with an XML error document.
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    if (code !== undefined) message = [code, /<Message>([^<]*)<\/Message>/.exec(text)?.[1]].filter(Boolean).join(': ');
    throw new Error(`${res.status} from ${new URL(endpoint).origin}: ${message.slice(0, 300)}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The hash constructor shape the signer expects, on Node's crypto. */
export class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}
