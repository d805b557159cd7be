import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { etagMatches, hashFile, multipartPartSize, partSizeFor } from '../../src/cli/s3/hash.js';
import { splitList } from '../../src/cli/s3/walk.js';

const MiB = 1024 * 1024;

describe('content hashes', () => {
  it('computes the MD5 and the S3 multipart ETag in one pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-hash-'));
    try {
      const data = randomBytes(11 * MiB + 123);
      const path = join(dir, 'f.bin');
      writeFileSync(path, data);
      const h = await hashFile(path, 5 * MiB);
      expect(h.md5).toBe(createHash('md5').update(data).digest('hex'));
      const parts = [0, 1, 2].map((i) => createHash('md5').update(data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB)).digest());
      expect(h.multipartEtag).toBe(`${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-3`);
      expect(etagMatches(`"${h.multipartEtag}"`, h)).toBe(true);
      expect(etagMatches(`"${h.md5}"`, h)).toBe(true);
      expect(etagMatches('"0123456789abcdef0123456789abcdef"', h)).toBe(false);
      expect(etagMatches('"0123456789abcdef0123456789abcdef-7"', h)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks part sizes that fit in 10,000 parts and uses a single PUT at or below the threshold', () => {
    expect(partSizeFor(100 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(Math.ceil((200 * 1024 * MiB) / partSizeFor(200 * 1024 * MiB, 8 * MiB))).toBeLessThanOrEqual(10_000);
    expect(multipartPartSize(16 * MiB, { threshold: 16 * MiB, chunkSize: 8 * MiB })).toBeUndefined();
    expect(multipartPartSize(17 * MiB, { threshold: 16 * MiB, chunkSize: 8 * MiB })).toBe(8 * MiB);
  });
});

describe('--files-from lists', () => {
  it('skip comments and blank lines, keep spaces, strip CR', () => {
    expect(splitList('# changed\na b.txt\r\n\n  # indented comment\nc#d.txt\n', false)).toEqual(['a b.txt', 'c#d.txt']);
    expect(splitList('#not a comment\0x\ny\0', true)).toEqual(['#not a comment', 'x\ny']);
  });
});
