/**
 * The whole-object checksum S3 reports for a multipart upload: COMPOSITE is the checksum of the
 * parts' raw checksums concatenated, suffixed `-N`; FULL_OBJECT (CRC types only) is the CRC of the
 * whole byte stream, combined from the parts' CRCs and lengths without reading the bytes again.
 */
import { S3Error } from '../../errors/s3-error.js';
import { combineCrc, createHasher } from '../../auth/checksums.js';
import type { Checksum, ChecksumAlgorithm, PartInfo } from '../../storage/types.js';

export function multipartChecksum(algorithm: ChecksumAlgorithm, type: 'COMPOSITE' | 'FULL_OBJECT', parts: PartInfo[]): Checksum | undefined {
  const digests: Buffer[] = [];
  for (const part of parts) {
    if (!part.checksum || part.checksum.algorithm !== algorithm) {
      throw new S3Error('InvalidRequest', `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.partNumber} in the request.`);
    }
    digests.push(Buffer.from(part.checksum.value, 'base64'));
  }
  if (type === 'COMPOSITE') {
    const hasher = createHasher(algorithm);
    for (const d of digests) hasher.update(d);
    return { algorithm, value: `${hasher.digest().toString('base64')}-${parts.length}`, type };
  }
  if (algorithm !== 'CRC32' && algorithm !== 'CRC32C' && algorithm !== 'CRC64NVME') throw new S3Error('InvalidRequest', `${algorithm} does not support FULL_OBJECT checksums`);
  const combined = combineCrc(algorithm, parts.map((p, i) => ({ crc: digests[i]!, length: p.size })));
  return { algorithm, value: combined.toString('base64'), type };
}
