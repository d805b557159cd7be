import { describe, expect, it } from 'vitest';
import { claimedNames, isClaimed, type ClaimSources } from './claims.js';

const buckets = ['media.example.com', 'photos', 'my.local.bucket'];
const sources: ClaimSources = {
  websiteDomain: 'example.org',
  extraDomains: ['static.example.net'],
  isBucket: (name) => buckets.includes(name),
  bucketNames: () => buckets,
};

describe('names ACME may ask a certificate for', () => {
  it.each([
    ['the website domain', 'example.org', true],
    ['an --acme-domain name', 'static.example.net', true],
    ['a CNAME bucket', 'media.example.com', true],
    ['a CNAME bucket, any case, trailing dot', 'Media.Example.COM.', true],
    ['bucket.<website domain> for a bucket that exists', 'photos.example.org', true],
    ['bucket.<website domain> for no bucket', 'nope.example.org', false],
    ['a stranger', 'stranger.example.com', false],
    ['a sub-name of a CNAME bucket', 'x.media.example.com', false],
    ['localhost', 'localhost', false],
    ['*.localhost', 'media.localhost', false],
    ['an IP address', '127.0.0.1', false],
    ['a wildcard', '*.example.org', false],
    ['not a DNS name', 'exa mple.org', false],
  ] as const)('%s', (_what, name, expected) => {
    expect(isClaimed(name, sources)).toBe(expected);
  });

  it('orders up front for the website domain, --acme-domain names and CNAME buckets (not bare bucket names)', () => {
    expect(claimedNames(sources).sort()).toEqual(['example.org', 'media.example.com', 'my.local.bucket', 'static.example.net']);
  });
});
