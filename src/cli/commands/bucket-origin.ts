/**
 * `offload bucket origin s3://media --url https://app.example.com/media/`: make a bucket a
 * pull-through cache of an origin (docs/origin.md). The upstream S3 flags are --s3-*, because
 * --endpoint, --access-key and --secret-key name the Offload server this command talks to.
 */
import { Command } from 'commander';
import { addAdminOptions, adminConnection, jsonOrThrow, signedRequest } from '../admin-client.js';
import { parseS3Url, parseSize } from '../s3/keys.js';

interface OriginOptions {
  url?: string;
  s3?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3AccessKey?: string;
  s3SecretKey?: string;
  prefixMap: string[];
  forwardHeader: string[];
  connectTimeout?: string;
  readTimeout?: string;
  maxObjectSize?: string;
  capacity?: string;
  public?: boolean;
  negativeTtl?: string;
  defaultTtl?: string;
  allowPrivate: string[];
  remove?: boolean;
  json?: boolean;
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function originCommand(): Command {
  const cmd = new Command('origin')
    .description('Make a bucket fill itself from an origin on a miss (a pull-through cache), show or remove its origin')
    .argument('<bucket>', 's3://bucket')
    .option('--url <url>', 'an HTTP(S) origin: the key is appended to this URL')
    .option('--s3 <url>', 'an upstream S3 bucket, s3://bucket, read with SigV4')
    .option('--s3-endpoint <url>', 'the upstream S3 endpoint (https://s3.eu-west-1.amazonaws.com, another Offload)')
    .option('--s3-region <region>', 'the region the upstream signs for', 'us-east-1')
    .option('--s3-access-key <id>', 'the upstream access key id (kept on the server, never shown back)')
    .option('--s3-secret-key <secret>', 'the upstream secret key (or OFFLOAD_ORIGIN_SECRET_KEY)')
    .option('--prefix-map <from=to>', 'bucket key prefix FROM is the origin path prefix TO (repeatable; first match wins)', collect, [])
    .option('--forward-header <name>', 'a request header passed on to the origin (repeatable; never credentials)', collect, [])
    .option('--connect-timeout <seconds>', 'longest wait for a connection to the origin', '5')
    .option('--read-timeout <seconds>', 'longest silence while the origin answers', '30')
    .option('--max-object-size <size>', 'larger answers are streamed through, not stored', '1GiB')
    .option('--capacity <size>', 'bytes the bucket may hold; least recently used filled objects are evicted above it')
    .option('--public', 'filled objects are public-read (anonymous visitors may fill them)')
    .option('--negative-ttl <seconds>', 'how long a 404 from the origin is remembered', '10')
    .option('--default-ttl <seconds>', 'freshness of answers without max-age, s-maxage or Expires', '300')
    .option('--allow-private <address>', 'a private address or CIDR this origin may use (repeatable; the server must allow private origins too)', collect, [])
    .option('--remove', 'remove the origin (filled objects stay, as ordinary objects)')
    .option('--json', 'print the configuration as JSON');
  return addAdminOptions(cmd)
    .addHelpText('after', `
Examples:
  offload bucket origin s3://media --url https://app.example.com/media/ --public
  offload bucket origin s3://media --s3 s3://assets --s3-endpoint https://s3.eu-west-1.amazonaws.com --s3-region eu-west-1 --s3-access-key AK --s3-secret-key SK
  offload bucket origin s3://media --url https://app.example.com/ --prefix-map img/=static/images/ --capacity 20GiB
  offload bucket origin s3://media            # show it (secrets masked)
  offload bucket origin s3://media --remove`)
    .action(async (url: string, opts: OriginOptions) => {
      const name = parseS3Url(url).bucket;
      const conn = adminConnection(opts);
      const path = `/_offload/buckets/${encodeURIComponent(name)}/origin`;
      if (opts.remove) {
        await jsonOrThrow(await signedRequest(conn, 'DELETE', path), conn.endpoint);
        process.stdout.write(`${name}: origin removed (filled objects stay as ordinary objects)\n`);
        return;
      }
      const body = opts.url !== undefined || opts.s3 !== undefined ? JSON.stringify(originDocument(opts)) : undefined;
      const res = await signedRequest(conn, body === undefined ? 'GET' : 'PUT', path, body === undefined ? {} : { body });
      const { origin } = await jsonOrThrow<{ origin: Record<string, unknown> }>(res, conn.endpoint);
      if (opts.json) process.stdout.write(JSON.stringify({ bucket: name, origin }, null, 2) + '\n');
      else process.stdout.write(formatOrigin(name, origin));
    });
}

function originDocument(opts: OriginOptions): Record<string, unknown> {
  if ((opts.url === undefined) === (opts.s3 === undefined)) throw new Error('give one of --url and --s3');
  const doc: Record<string, unknown> = {
    prefixMap: opts.prefixMap.map(mapping),
    forwardHeaders: opts.forwardHeader,
    connectTimeoutMs: seconds('--connect-timeout', opts.connectTimeout!) * 1000,
    readTimeoutMs: seconds('--read-timeout', opts.readTimeout!) * 1000,
    maxObjectSize: parseSize(opts.maxObjectSize!),
    public: opts.public === true,
    negativeTtl: seconds('--negative-ttl', opts.negativeTtl!),
    defaultTtl: seconds('--default-ttl', opts.defaultTtl!),
    allowPrivateAddresses: opts.allowPrivate,
  };
  if (opts.capacity !== undefined) doc.capacity = parseSize(opts.capacity);
  if (opts.url !== undefined) doc.url = opts.url;
  else {
    if (!opts.s3Endpoint) throw new Error('--s3 needs --s3-endpoint');
    const secret = opts.s3SecretKey ?? process.env.OFFLOAD_ORIGIN_SECRET_KEY;
    doc.s3 = { bucket: parseS3Url(opts.s3!).bucket, endpoint: opts.s3Endpoint, region: opts.s3Region, ...(opts.s3AccessKey ? { accessKeyId: opts.s3AccessKey, secretAccessKey: secret } : {}) };
  }
  return doc;
}

function mapping(arg: string): { from: string; to: string } {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new Error(`--prefix-map wants FROM=TO, got "${arg}"`);
  return { from: arg.slice(0, eq), to: arg.slice(eq + 1) };
}

function seconds(flag: string, value: string): number {
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number of seconds, got "${value}"`);
  return n;
}

export function formatOrigin(bucket: string, o: Record<string, unknown>): string {
  const s3 = o.s3 as { bucket: string; endpoint: string; accessKeyId?: string } | undefined;
  const from = s3 ? `s3://${s3.bucket} at ${s3.endpoint}${s3.accessKeyId ? ` (key ${s3.accessKeyId}, secret kept on the server)` : ' (anonymous)'}` : String(o.url);
  const lines = [`${bucket}: pull-through from ${from}`, `  filled objects ${o.public ? 'public-read' : 'private'}; capacity ${o.capacity ?? 'unlimited'}; max object size ${String(o.maxObjectSize)} bytes`, `  default TTL ${String(o.defaultTtl)} s, 404s remembered ${String(o.negativeTtl)} s, timeouts ${String(o.connectTimeoutMs)} ms connect / ${String(o.readTimeoutMs)} ms read`];
  const maps = o.prefixMap as { from: string; to: string }[];
  if (maps.length) lines.push(`  prefix map: ${maps.map((m) => `${m.from || '(any)'} -> ${m.to}`).join(', ')}`);
  const fwd = o.forwardHeaders as string[];
  if (fwd.length) lines.push(`  forwarded headers: ${fwd.join(', ')}`);
  return lines.join('\n') + '\n';
}
