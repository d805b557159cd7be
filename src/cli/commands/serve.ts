/** `offload serve`: flags, environment defaults, the start-up banner and signal handling. */
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import cluster from 'node:cluster';
import type { ServeOptions } from '../../server/index.js';
import { markRootSecretShown } from '../../server/root-credentials.js';
import { parseSize } from '../s3/keys.js';
import { parseMinFreeSpace } from '../../storage/disk-space.js';
import { limitOptions, parseLimitFlags, type LimitFlags } from '../../server/limit-options.js';
import { parseTlsFlags, tlsOptions, type TlsFlags } from '../../server/tls/options.js';
import { parseRateLimitFlags, rateLimitOptions, type RateLimitFlags } from '../../server/rate-limit-options.js';
import { parseSecurityFlags, securityOptions, type SecurityFlags } from '../../server/security-options.js';

export function serveCommand(): Command {
  const limits = limitOptions();
  const security = securityOptions();
  const rateLimits = rateLimitOptions();
  const command = new Command('serve')
    .description('Run the S3-compatible media server on a local data folder')
    .addOption(new Option('--host <host>', 'address to listen on').env('OFFLOAD_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').env('OFFLOAD_PORT').default('9000'))
    .addOption(new Option('--data <dir>', 'data folder (metadata database and object files)').env('OFFLOAD_DATA').default('./data'))
    .addOption(new Option('--meta <url>', 'metadata in PostgreSQL (postgres://user:pass@host/db), shared by every node on it; default: SQLite in the data folder').env('OFFLOAD_META'))
    .addOption(new Option('--domain <name>', 'base domain for virtual-hosted-style requests (bucket.<domain>)').env('OFFLOAD_DOMAIN').default('localhost'))
    .addOption(new Option('--region <region>', 'region reported to clients').env('OFFLOAD_REGION').default('us-east-1'))
    .addOption(new Option('--website-port <port>', 'also serve buckets as static websites on this port').env('OFFLOAD_WEBSITE_PORT'))
    .addOption(new Option('--website-domain <name>', 'base domain of website hosts (bucket.<name>); defaults to --domain').env('OFFLOAD_WEBSITE_DOMAIN'))
    .addOption(new Option('--console-port <port>', 'port of the web console (default: --port + 1; 0 picks a free one)').env('OFFLOAD_CONSOLE_PORT'))
    .addOption(new Option('--no-console', 'serve no web console (neither its port nor /_offload/console/)'))
    .addOption(new Option('--cache-rules <file>', 'JSON file of per-bucket cache rules applied at start-up (see docs/serving.md)').env('OFFLOAD_CACHE_RULES'))
    .addOption(new Option('--compress-on-the-fly', 'compress text objects without a stored .br/.gz variant on first request and keep the result').env('OFFLOAD_COMPRESS_ON_THE_FLY'))
    .addOption(new Option('--hot-cache <size>', 'memory for hot objects of up to 1 MiB, per server process (0 turns it off)').env('OFFLOAD_HOT_CACHE').default('64MiB'))
    .addOption(new Option('--min-free-space <size>', 'refuse object writes (507 XOffloadStorageFull) below this free space on the data volume: a size or a percentage, 0 turns it off (default: 5% of the volume, at most 1GiB)').env('OFFLOAD_MIN_FREE_SPACE'))
    .addOption(new Option('--blobs <url>', 'where object bytes go: s3://bucket/prefix?endpoint=URL&region=R&forcePathStyle=true (credentials from AWS_* or accessKeyId=/secretAccessKey=) or a shared folder (default: the data folder)').env('OFFLOAD_BLOBS'))
    .addOption(new Option('--workers <n>', 'server processes sharing the port ("auto": one per core; each adds about 60-120 MB)').env('OFFLOAD_WORKERS').default('1'))
    .addOption(new Option('--allow-private-origins [addresses]', 'let origin buckets fetch from these loopback/private addresses or CIDRs, comma-separated (no value: every private range; link-local and metadata addresses only when named)').env('OFFLOAD_ALLOW_PRIVATE_ORIGINS'))
    .addOption(limits.maxConnections)
    .addOption(limits.bodyTimeout)
    .addOption(limits.bodyMinRate)
    .addOption(limits.headerTimeout)
    .addOption(limits.shutdownGrace)
    .addOption(security[0]!)
    .addOption(security[1]!)
    .addOption(security[2]!)
    .addOption(rateLimits[0]!)
    .addOption(rateLimits[1]!)
    .addOption(rateLimits[2]!)
    .addOption(rateLimits[3]!);
  // HTTPS, HTTP/2 and ACME last: most servers run without them.
  for (const option of tlsOptions()) command.addOption(option);
  return command
    .addHelpText('after', `
Examples:
  offload serve                          # http://127.0.0.1:9000, data in ./data
  offload serve --host 0.0.0.0 --port 9000 --data /srv/media --domain media.example.com
  OFFLOAD_ROOT_ACCESS_KEY=AK OFFLOAD_ROOT_SECRET_KEY=SK offload serve
  offload serve --tls-cert cert.pem --tls-key key.pem --tls-port 443 --https-redirect --hsts
  offload serve --port 80 --tls-port 443 --website-domain media.example.com --acme-email you@example.com   # see docs/https.md`)
    .action(async (opts: { host: string; port: string; data: string; meta?: string; domain: string; region: string; websitePort?: string; websiteDomain?: string; consolePort?: string; console: boolean; workers: string; cacheRules?: string; compressOnTheFly?: boolean; hotCache: string; minFreeSpace?: string; allowPrivateOrigins?: string | boolean; blobs?: string } & LimitFlags & TlsFlags & SecurityFlags & RateLimitFlags) => {
      const { shutdownGraceMs, ...limits } = parseLimitFlags(opts);
      const serveOptions: ServeOptions = {
        ...limits,
        ...parseSecurityFlags(opts),
        rateLimits: parseRateLimitFlags(opts),
        host: opts.host,
        port: portNumber('--port', opts.port),
        dataDir: opts.data,
        metaUrl: opts.meta,
        domain: opts.domain,
        region: opts.region,
        websitePort: opts.websitePort === undefined ? undefined : portNumber('--website-port', opts.websitePort),
        websiteDomain: opts.websiteDomain,
        consolePort: opts.consolePort === undefined ? undefined : portNumber('--console-port', opts.consolePort),
        noConsole: opts.console === false || process.env.OFFLOAD_CONSOLE === '0',
        cacheRulesFile: opts.cacheRules,
        compressOnTheFly: opts.compressOnTheFly === true,
        hotCacheBytes: parseSize(opts.hotCache),
        minFreeSpace: opts.minFreeSpace === undefined ? undefined : parseMinFreeSpace(opts.minFreeSpace),
        tls: parseTlsFlags(opts, portNumber),
        allowPrivateOrigins: opts.allowPrivateOrigins === undefined ? undefined : opts.allowPrivateOrigins === true ? ['private'] : String(opts.allowPrivateOrigins).split(',').map((a) => a.trim()).filter((a) => a !== ''),
        blobs: opts.blobs,
      };
      // Loaded on demand: a cluster primary only forks and supervises, and stays small.
      if (cluster.isWorker) {
        await (await import('../../server/cluster.js')).runWorker(serveOptions);
        return;
      }
      const workers = workerCount(opts.workers);
      // Each worker would order the same certificates: one ACME client per data folder.
      if (workers > 1 && serveOptions.tls?.acme) throw new Error('--acme-email (automatic certificates) runs in one server process: use --workers 1, or certificate files (--tls-cert/--tls-key) with --workers');
      const running = workers > 1
        ? await (await import('../../server/cluster.js')).startCluster(serveOptions, workers)
        : await (await import('../../server/index.js')).startServer(serveOptions);
      const { root } = running;
      if (root.generated) {
        console.log(`Root access key:  ${root.accessKeyId}`);
        console.log(`Root secret key:  ${root.secretAccessKey}`);
        console.log(`(generated for this data folder and kept in ${root.file}; it is shown only this once)`);
        markRootSecretShown(root);
      } else if (root.source === 'env') {
        console.log(`Root access key:  ${root.accessKeyId}  (secret from OFFLOAD_ROOT_SECRET_KEY)`);
      } else {
        console.log(`Root access key:  ${root.accessKeyId}  (secret in ${root.file})`);
      }
      console.log(`Region: ${opts.region}  Data: ${resolve(opts.data)}  Workers: ${workers}`);
      if (opts.meta !== undefined) console.log(`Metadata: ${(await import('../../server/shared-meta.js')).redactMetaUrl(opts.meta)}`);
      if (running.websiteUrl) console.log(`offload website endpoint on ${running.websiteUrl} (hosts: bucket.${opts.websiteDomain ?? opts.domain})`);
      if (running.tlsUrl) console.log(`offload TLS listening on ${running.tlsUrl} (HTTP/2 and HTTP/1.1)`);
      if (running.consoleUrl) console.log(`offload console on ${running.consoleUrl} (sign in with an access key and its secret)`);
      console.log(`offload listening on ${running.url}`);
      const shutdown = (signal: string) => {
        console.log(`offload: ${signal}, finishing in-flight requests`);
        running.stop(shutdownGraceMs).then(
          () => process.exit(0),
          (err: unknown) => {
            console.error(`offload: shutdown failed: ${(err as Error).message}`);
            process.exit(1);
          },
        );
      };
      // SIGHUP reloads the certificate files (each worker watches them too); it must not end the primary.
      if (workers > 1 && serveOptions.tls) process.on('SIGHUP', () => { for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP'); });
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}

/** `auto` is one process per core: the hot path is CPU-bound and each process has one thread. */
function workerCount(value: string): number {
  if (value === 'auto') return Math.max(1, Math.min(availableParallelism(), 8));
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new Error(`--workers must be "auto" or a number from 1 to 64, got "${value}"`);
  return n;
}

function portNumber(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`${flag} must be a number from 0 to 65535, got "${value}"`);
  return port;
}
