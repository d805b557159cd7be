/**
 * The TLS flags of `offload serve`: certificate files, the TLS port, the website's HTTPS redirect
 * and HSTS, and automatic certificates (ACME). Their commander options and the checks that turn
 * their text into ServeOptions, kept here so serve.ts stays a list of flags.
 */
import { Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { CertificateFiles } from './file-certificates.js';

export const LETS_ENCRYPT_PRODUCTION = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';
/** Without the right to bind low ports, the TLS port is this one (as 9000 stands for 80). */
export const UNPRIVILEGED_TLS_PORT = 9443;
export const DEFAULT_HSTS_MAX_AGE = 31_536_000;

export interface AcmeOptions {
  email?: string;
  directoryUrl: string;
  /** PEM file of CA certificates trusted for the ACME server's own HTTPS (a test CA such as pebble's). */
  caFile?: string;
  /** Names allowed beside the website domain and the CNAME buckets (`--acme-domain`). */
  domains: string[];
}

export interface TlsServeOptions {
  files: CertificateFiles[];
  port: number;
  /** No plain-HTTP API or website: the plain port answers only ACME's HTTP-01 challenges. */
  only: boolean;
  /** Website requests over plain HTTP are redirected (301) to HTTPS. */
  httpsRedirect: boolean;
  hstsMaxAge?: number;
  acme?: AcmeOptions;
}

export interface TlsFlags {
  tlsCert?: string[];
  tlsKey?: string[];
  tlsPort?: string;
  tlsOnly?: boolean;
  httpsRedirect?: boolean;
  hsts?: string | boolean;
  acmeEmail?: string;
  acmeDirectory?: string;
  acmeCaFile?: string;
  acmeDomain?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function tlsOptions(): Option[] {
  return [
    new Option('--tls-cert <file>', 'PEM certificate (leaf first, chain allowed) for HTTPS; repeat with --tls-key for more names (chosen by SNI, the first is the default)').argParser(collect).env('OFFLOAD_TLS_CERT'),
    new Option('--tls-key <file>', 'PEM private key of the --tls-cert given in the same position').argParser(collect).env('OFFLOAD_TLS_KEY'),
    new Option('--tls-port <port>', `HTTPS (HTTP/2 and HTTP/1.1) port (default: 443 as root or with CAP_NET_BIND_SERVICE, else ${UNPRIVILEGED_TLS_PORT})`).env('OFFLOAD_TLS_PORT'),
    new Option('--tls-only', 'no plain-HTTP API or website; the plain port answers only ACME HTTP-01 challenges (with ACME)').env('OFFLOAD_TLS_ONLY'),
    new Option('--https-redirect', 'redirect website requests on plain HTTP to HTTPS (301), except ACME challenges').env('OFFLOAD_HTTPS_REDIRECT'),
    new Option('--hsts [max-age]', `send Strict-Transport-Security on HTTPS answers (default max-age ${DEFAULT_HSTS_MAX_AGE})`).env('OFFLOAD_HSTS'),
    new Option('--acme-email <address>', 'obtain certificates automatically (ACME HTTP-01) for the website domain, CNAME buckets and --acme-domain names; the CA\'s contact address').env('OFFLOAD_ACME_EMAIL'),
    new Option('--acme-directory <url>', `ACME directory (staging: ${LETS_ENCRYPT_STAGING})`).env('OFFLOAD_ACME_DIRECTORY').default(LETS_ENCRYPT_PRODUCTION),
    new Option('--acme-ca-file <file>', 'PEM CA certificates to trust for the ACME server itself (a test CA such as pebble\'s)').env('OFFLOAD_ACME_CA_FILE'),
    new Option('--acme-domain <name>', 'a further name ACME may obtain a certificate for (repeatable)').argParser(collect),
  ];
}

/** undefined when no TLS flag was given: `offload serve` stays plain HTTP. */
export function parseTlsFlags(flags: TlsFlags, portNumber: (flag: string, value: string) => number): TlsServeOptions | undefined {
  const certs = flags.tlsCert ?? [];
  const keys = flags.tlsKey ?? [];
  const acme = flags.acmeEmail !== undefined || (flags.acmeDomain ?? []).length > 0;
  if (certs.length !== keys.length) throw new Error(`--tls-cert and --tls-key go in pairs: got ${certs.length} certificate(s) and ${keys.length} key(s)`);
  if (certs.length === 0 && !acme) {
    for (const [flag, given] of [['--tls-port', flags.tlsPort], ['--tls-only', flags.tlsOnly], ['--https-redirect', flags.httpsRedirect], ['--hsts', flags.hsts]] as const) {
      if (given !== undefined && given !== false) throw new Error(`${flag} needs HTTPS: give --tls-cert/--tls-key or --acme-email`);
    }
    return undefined;
  }
  if (flags.acmeCaFile !== undefined) readFileSync(flags.acmeCaFile);
  return {
    files: certs.map((cert, i) => ({ cert, key: keys[i]! })),
    port: flags.tlsPort === undefined ? defaultTlsPort() : portNumber('--tls-port', flags.tlsPort),
    only: flags.tlsOnly === true,
    httpsRedirect: flags.httpsRedirect === true,
    hstsMaxAge: hstsMaxAge(flags.hsts),
    acme: acme
      ? { email: flags.acmeEmail, directoryUrl: flags.acmeDirectory ?? LETS_ENCRYPT_PRODUCTION, caFile: flags.acmeCaFile, domains: (flags.acmeDomain ?? []).map((d) => d.toLowerCase()) }
      : undefined,
  };
}

function hstsMaxAge(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_HSTS_MAX_AGE;
  if (!/^\d+$/.test(value.trim()) || Number(value) > 1e9) throw new Error(`--hsts takes a max-age in seconds, got "${value}"`);
  return Number(value);
}

/** 443 for a process that may bind it (root, or CAP_NET_BIND_SERVICE in its effective set). */
export function defaultTlsPort(): number {
  if (process.getuid?.() === 0) return 443;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 10n)) !== 0n) return 443;
  } catch {
    // Not Linux: only root is known to bind 443.
  }
  return UNPRIVILEGED_TLS_PORT;
}
