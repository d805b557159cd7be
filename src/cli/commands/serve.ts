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
import { parseRateLimitFlags, rateLimitOptions, type RateLimitFlags } from '../../server/rate-limit-options.js';
import { parseSecurityFlags, securityOptions, type SecurityFlags } from '../../server/security-options.js';

export function serveCommand(): Command {
  const limits = limitOptions();
  const security = securityOptions();
  const rateLimits = rateLimitOptions();
  return new Command('serve')
    .description('Run the S3-compatible media server on a local data folder')
    .addOption(new Option('--host <host>', 'address to listen on').env('OFFLOAD_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').env('OFFLOAD_PORT').default('9000'))
    .addOption(new Option('--data <dir>', 'data folder (metadata database and object files)').env('OFFLOAD_DATA').default('./data'))
    .addOption(new Option('--domain <name>', 'base domain for virtual-hosted-style requests (bucket.<domain>)').env('OFFLOAD_DOMAIN').default('localhost'))
    .addOption(new Option('--region <region>', 'region reported to clients').env('OFFLOAD_REGION').default('us-east-1'))
    .addOption(new Option('--website-port <port>', 'also serve buckets as static websites on this port').env('OFFLOAD_WEBSITE_PORT'))
    .addOption(new Option('--website-domain <name>', 'base domain of website hosts (bucket.<name>); defaults to --domain').env('OFFLOAD_WEBSITE_DOMAIN'))
    .addOption(new Option('--cache-rules <file>', 'JSON file of per-bucket cache rules applied at start-up (see docs/serving.md)').env('OFFLOAD_CACHE_RULES'))
    .addOption(new Option('--compress-on-the-fly', 'compress text objects without a stored .br/.gz variant on first request and keep the result').env('OFFLOAD_COMPRESS_ON_THE_FLY'))
    .addOption(new Option('--hot-cache <size>', 'memory for hot objects of up to 1 MiB, per server process (0 turns it off)').env('OFFLOAD_HOT_CACHE').default('64MiB'))
    .addOption(new Option('--min-free-space <size>', 'refuse object writes (507 XOffloadStorageFull) below this free space on the data volume: a size or a percentage, 0 turns it off (default: 5% of the volume, at most 1GiB)').env('OFFLOAD_MIN_FREE_SPACE'))
    .addOption(new Option('--workers <n>', 'server processes sharing the port ("auto": one per core; each adds about 60-120 MB)').env('OFFLOAD_WORKERS').default('1'))
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
    .addOption(rateLimits[3]!)
    .addHelpText('after', `
Examples:
  offload serve                          # http://127.0.0.1:9000, data in ./data
  offload serve --host 0.0.0.0 --port 9000 --data /srv/media --domain media.example.com
  OFFLOAD_ROOT_ACCESS_KEY=AK OFFLOAD_ROOT_SECRET_KEY=SK offload serve`)
    .action(async (opts: { host: string; port: string; data: string; domain: string; region: string; websitePort?: string; websiteDomain?: string; workers: string; cacheRules?: string; compressOnTheFly?: boolean; hotCache: string; minFreeSpace?: string } & LimitFlags & SecurityFlags & RateLimitFlags) => {
      const { shutdownGraceMs, ...limits } = parseLimitFlags(opts);
      const serveOptions: ServeOptions = {
        ...limits,
        ...parseSecurityFlags(opts),
        rateLimits: parseRateLimitFlags(opts),
        host: opts.host,
        port: portNumber('--port', opts.port),
        dataDir: opts.data,
        domain: opts.domain,
        region: opts.region,
        websitePort: opts.websitePort === undefined ? undefined : portNumber('--website-port', opts.websitePort),
        websiteDomain: opts.websiteDomain,
        cacheRulesFile: opts.cacheRules,
        compressOnTheFly: opts.compressOnTheFly === true,
        hotCacheBytes: parseSize(opts.hotCache),
        minFreeSpace: opts.minFreeSpace === undefined ? undefined : parseMinFreeSpace(opts.minFreeSpace),
      };
      // Loaded on demand: a cluster primary only forks and supervises, and stays small.
      if (cluster.isWorker) {
        await (await import('../../server/cluster.js')).runWorker(serveOptions);
        return;
      }
      const workers = workerCount(opts.workers);
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
      if (running.websiteUrl) console.log(`offload website endpoint on ${running.websiteUrl} (hosts: bucket.${opts.websiteDomain ?? opts.domain})`);
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
