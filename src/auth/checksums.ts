/**
 * The checksums S3 clients send (`x-amz-checksum-*`): CRC32, CRC32C, CRC64NVME, SHA1, SHA256,
 * computed incrementally, plus CRC combination for full-object multipart checksums.
 * All three CRCs are reflected with all-ones init and xorout, which is what makes
 * `combineCrc` a single formula for them.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import type { ChecksumAlgorithm } from '../storage/types.js';

export interface Hasher {
  update(data: Buffer): void;
  /** The digest in S3's byte order (big-endian for CRCs), ready for base64. */
  digest(): Buffer;
}

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/** Digest length in bytes, to validate client-supplied values before any body is read. */
export const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case 'CRC32': {
      let crc = 0;
      return { update: (d) => { crc = zlib.crc32(d, crc); }, digest: () => uint32(crc) };
    }
    case 'CRC32C': {
      let crc = 0xffffffff;
      return { update: (d) => { crc = crc32cUpdate(crc, d); }, digest: () => uint32((crc ^ 0xffffffff) >>> 0) };
    }
    case 'CRC64NVME': {
      const state = { hi: 0xffffffff, lo: 0xffffffff };
      return {
        update: (d) => crc64Update(state, d),
        digest: () => {
          const out = Buffer.alloc(8);
          out.writeUInt32BE((state.hi ^ 0xffffffff) >>> 0, 0);
          out.writeUInt32BE((state.lo ^ 0xffffffff) >>> 0, 4);
          return out;
        },
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (d) => { hash.update(d); }, digest: () => hash.digest() };
    }
  }
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32cUpdate(crc: number, data: Buffer): number {
  let c = crc;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

// CRC-64/NVME, reflected polynomial 0x9a6c9329ac4bc9b5, kept as two 32-bit halves (BigInt is far slower).
const CRC64_HI = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
(() => {
  const polyHi = 0x9a6c9329;
  const polyLo = 0xac4bc9b5;
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        hi = (hi ^ polyHi) >>> 0;
        lo = (lo ^ polyLo) >>> 0;
      }
    }
    CRC64_HI[i] = hi;
    CRC64_LO[i] = lo;
  }
})();

function crc64Update(state: { hi: number; lo: number }, data: Buffer): void {
  let { hi, lo } = state;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ CRC64_HI[idx]!) >>> 0;
  }
  state.hi = hi;
  state.lo = lo;
}

const CRC_POLY: Partial<Record<ChecksumAlgorithm, { width: number; poly: bigint }>> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
};

/**
 * The CRC of the concatenation of parts from each part's CRC and length (zlib's crc32_combine,
 * generalised): crc(A||B) = crcA * x^(8*len(B)) mod P  xor  crcB.
 */
export function combineCrc(algorithm: ChecksumAlgorithm, parts: { crc: Buffer; length: number }[]): Buffer {
  const spec = CRC_POLY[algorithm];
  if (!spec) throw new Error(`${algorithm} is not a CRC`);
  const { width, poly } = spec;
  const top = 1n << BigInt(width - 1);
  const multiply = (a: bigint, b: bigint): bigint => {
    let m = top;
    let p = 0n;
    for (;;) {
      if (a & m) {
        p ^= b;
        if ((a & (m - 1n)) === 0n) break;
      }
      m >>= 1n;
      b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
    }
    return p;
  };
  // powers[k] = x^(2^k) mod P
  const powers: bigint[] = [top >> 1n];
  for (let k = 1; k < 64; k++) powers.push(multiply(powers[k - 1]!, powers[k - 1]!));
  const xPow8n = (length: number): bigint => {
    let p = top;
    let n = BigInt(length);
    let k = 3;
    while (n > 0n) {
      if (n & 1n) p = multiply(powers[k % 64]!, p);
      n >>= 1n;
      k++;
    }
    return p;
  };
  let crc: bigint | undefined;
  for (const part of parts) {
    const value = BigInt(`0x${part.crc.toString('hex')}`);
    crc = crc === undefined ? value : multiply(xPow8n(part.length), crc) ^ value;
  }
  const out = Buffer.alloc(width / 8);
  const hex = (crc ?? 0n).toString(16).padStart(width / 4, '0');
  Buffer.from(hex, 'hex').copy(out);
  return out;
}
