/**
 * The encryption and metrics flags of `offload serve` (--master-key-file, --metrics-token,
 * --metrics-token-file): their commander options and the checks that turn them into ServeOptions.
 */
import { Option } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import type { ServeOptions } from './serve-options.js';

export interface SecurityFlags {
  masterKeyFile?: string;
  previousMasterKeyFile?: string;
  metricsToken?: string;
  metricsTokenFile?: string;
}

export function securityOptions(): Option[] {
  return [
    new Option('--master-key-file <file>', 'file holding the master key for encryption at rest (64 hex characters, mode 0600, kept outside the data folder); without it SSE-S3 requests are refused').env('OFFLOAD_MASTER_KEY_FILE'),
    new Option('--previous-master-key-file <file>', 'with --meta: the master key that `offload keys rotate-master` is replacing, so that data keys it still wraps stay readable during the rotation').env('OFFLOAD_PREVIOUS_MASTER_KEY_FILE'),
    new Option('--metrics-token <token>', 'bearer token that may read /_offload/metrics (Prometheus `authorization: credentials:`)').env('OFFLOAD_METRICS_TOKEN'),
    new Option('--metrics-token-file <file>', 'like --metrics-token, read from a file (mode 0600)').env('OFFLOAD_METRICS_TOKEN_FILE'),
  ];
}

export function parseSecurityFlags(flags: SecurityFlags): Pick<ServeOptions, 'masterKeyFile' | 'previousMasterKeyFile' | 'metricsToken'> {
  if (flags.metricsToken !== undefined && flags.metricsTokenFile !== undefined) throw new Error('give --metrics-token or --metrics-token-file, not both');
  const token = flags.metricsTokenFile === undefined ? flags.metricsToken : readSecretFile(flags.metricsTokenFile, '--metrics-token-file');
  if (token !== undefined && token.length < 16) throw new Error('the metrics token must be at least 16 characters (e.g. `openssl rand -hex 32`)');
  if (flags.previousMasterKeyFile !== undefined && flags.masterKeyFile === undefined) throw new Error('--previous-master-key-file needs --master-key-file (the new key)');
  return { masterKeyFile: flags.masterKeyFile, previousMasterKeyFile: flags.previousMasterKeyFile, metricsToken: token };
}

function readSecretFile(file: string, flag: string): string {
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) throw new Error(`${flag} ${file} is readable by others: chmod 600 it`);
  return readFileSync(file, 'utf8').trim();
}
