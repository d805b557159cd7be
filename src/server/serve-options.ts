/** What `offload serve` is started with: the flags, as startServer takes them. */
import type { MinFreeSpace } from '../storage/disk-space.js';
import type { TlsServeOptions } from './tls/options.js';
import type { ServerLimits } from '../s3/limits/limiter.js';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  /** `--meta postgres://...`: metadata in PostgreSQL, shared by every node on it (default: SQLite in the data folder). */
  metaUrl?: string;
  domain: string;
  region: string;
  /** A second listener that answers as S3's website endpoint (index/error documents, redirects, HTML errors). */
  websitePort?: number;
  /** Hosts `bucket.<websiteDomain>` are website requests, on either port (default: the API domain, on the website port only). */
  websiteDomain?: string;
  env?: NodeJS.ProcessEnv;
  /** Compress text objects without stored variants on first request (see media/compress.ts). */
  compressOnTheFly?: boolean;
  /** Per-bucket cache rules to apply at start-up (JSON file). */
  cacheRulesFile?: string;
  /** Memory for the hot-object cache (default: the engine's, 64 MiB). */
  hotCacheBytes?: number;
  /**
   * A `--workers` worker: the primary recovered the data folder and holds its claim, and sibling
   * workers write it too.
   */
  skipRecovery?: boolean;
  /** `--min-free-space`: object writes are refused below it (storage/disk-space.ts). */
  minFreeSpace?: MinFreeSpace;
  /** Client connections this process holds at once (default: from the open-files limit, fd-budget.ts). */
  maxConnections?: number;
  /** Longest wait for a request's next body bytes, and the grace before its average rate counts (default 60 s; 0: off). */
  bodyTimeoutMs?: number;
  /** Slowest average a request body may arrive at past that grace, bytes/s (default 500; 0: off). */
  bodyMinRate?: number;
  /**
   * `--allow-private-origins`: addresses or CIDRs (or "private": every private range, link-local
   * excepted) origin buckets may fetch from, which the SSRF guard refuses otherwise.
   */
  allowPrivateOrigins?: string[];
  /** `--blobs`: an s3:// URL or a shared folder for blob bytes (storage/blob-backends/open.ts); default the data folder. */
  blobs?: string;
  /** Time a client has to send a request's headers (default 20 s). */
  headerTimeoutMs?: number;
  /**
   * The web console's own port (default: the API port + 1, or a free one with --port 0; if that
   * default is taken, the console is served under /_offload/console/ on the API port only).
   */
  consolePort?: number;
  /** `--no-console`: no console port and no /_offload/console/. */
  noConsole?: boolean;
  /** HTTPS and HTTP/2 (tls/options.ts): certificate files, ACME, the TLS port. */
  tls?: TlsServeOptions;
  /** `--master-key-file`: wraps the data keys of SSE-S3 objects (storage/encryption/keys.ts). */
  masterKeyFile?: string;
  /** `--previous-master-key-file` (with --meta): the key a running `offload keys rotate-master` replaces. */
  previousMasterKeyFile?: string;
  /** `--metrics-token`: a bearer token that may read /_offload/metrics. */
  metricsToken?: string;
  /** `--rate-limit-rps`, `--anonymous-rps`, `--bandwidth`, `--trusted-proxy` (s3/limits/limiter.ts). */
  rateLimits?: ServerLimits;
}
