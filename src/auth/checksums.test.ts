import { describe, expect, it } from 'vitest';
import { combineCrc, createHasher } from './checksums.js';
import type { ChecksumAlgorithm } from '../storage/types.js';

const digest = (alg: ChecksumAlgorithm, ...chunks: string[]) => {
  const h = createHasher(alg);
  for (const c of chunks) h.update(Buffer.from(c));
  return h.digest();
};

describe('checksums', () => {
  // Catalogue check values for "123456789".
  it.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
  ] as const)('%s of 123456789 is %s, in one piece or several', (alg, hex) => {
    expect(digest(alg, '123456789').toString('hex')).toBe(hex);
    expect(digest(alg, '1234', '', '56789').toString('hex')).toBe(hex);
  });

  it('SHA256 matches the known digest of the empty string', () => {
    expect(digest('SHA256').toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME'] as const)('%s combines part CRCs into the CRC of the whole', (alg) => {
    const parts = ['hello ', 'multipart ', 'world', 'x'.repeat(100_000)];
    const combined = combineCrc(alg, parts.map((p) => ({ crc: digest(alg, p), length: Buffer.byteLength(p) })));
    expect(combined.toString('hex')).toBe(digest(alg, ...parts).toString('hex'));
  });
});
