import { describe, expect, it } from 'vitest';
import { inCI, missingPeer } from './require-peer.js';

describe('missingPeer', () => {
  it('skips a missing peer on a developer machine', () => {
    expect(missingPeer('rclone', false, {})).toBe(true);
    expect(missingPeer('rclone', '/usr/bin/rclone', {})).toBe(false);
  });
  it('fails a missing peer in CI, and runs a present one', () => {
    expect(() => missingPeer('rclone', undefined, { CI: 'true' })).toThrow(/rclone is required in CI/);
    expect(missingPeer('rclone', true, { CI: 'true' })).toBe(false);
  });
  it('reads CI as GitHub Actions and others set it', () => {
    expect(inCI({ CI: 'true' })).toBe(true);
    expect(inCI({ CI: '1' })).toBe(true);
    expect(inCI({ CI: 'false' })).toBe(false);
    expect(inCI({})).toBe(false);
  });
});
