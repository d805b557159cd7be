/**
 * Which names ACME may ask a certificate for: only those something here claims, so that a
 * stranger who points a domain at the server cannot make it order certificates (and use up the
 * CA's rate limits). Claimed: the website domain, `--acme-domain` names, every bucket named like
 * a domain (a CNAME bucket: the router answers its host, router.ts bucketFromHost), and
 * `<bucket>.<website domain>` for a bucket that exists.
 */
import { isIP } from 'node:net';

export interface ClaimSources {
  websiteDomain: string;
  extraDomains: readonly string[];
  isBucket: (name: string) => boolean;
  bucketNames: () => string[];
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A name a public CA could issue for: a DNS name with a dot, not an IP address, not localhost. */
export function isCertifiableName(name: string): boolean {
  return DNS_NAME.test(name) && isIP(name) === 0 && !name.endsWith('.localhost') && !/^\d+(\.\d+)*$/.test(name);
}

export function isClaimed(rawName: string, sources: ClaimSources): boolean {
  const name = rawName.toLowerCase().replace(/\.$/, '');
  if (!isCertifiableName(name)) return false;
  if (name === sources.websiteDomain || sources.extraDomains.includes(name)) return true;
  if (sources.isBucket(name)) return true;
  const suffix = `.${sources.websiteDomain}`;
  return name.endsWith(suffix) && sources.isBucket(name.slice(0, -suffix.length));
}

/** The names to hold certificates for without waiting to be asked. */
export function claimedNames(sources: ClaimSources): string[] {
  const names = new Set<string>();
  for (const name of [sources.websiteDomain, ...sources.extraDomains, ...sources.bucketNames()]) if (isClaimed(name, sources)) names.add(name);
  return [...names];
}
