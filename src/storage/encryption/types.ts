/** What the Store contract says about encryption at rest (storage/encryption/). */

/** How one segment's blob is encrypted: its data key, wrapped, and the nonce prefix of its frames. */
export interface SegmentEncryption {
  /** base64 of the data key wrapped by the key-encryption key (keys.ts). */
  key: string;
  /** base64 of the blob's 8-byte nonce prefix (frames.ts). */
  nonce: string;
  /** Which key wrapped it: the server's master key (its id, for rotation) or the customer's. */
  kek: { master: string } | 'customer';
}

/** An object's server-side encryption, as S3 reports it. */
export interface ObjectEncryption {
  algorithm: 'AES256';
  /** SSE-C: only the key's MD5 (which S3 echoes) and a salted HMAC of it; never the key. */
  customer?: { keyMd5: string; salt: string; hmac: string };
}

/** What a write asks for: the encryption to record, and the customer's key for SSE-C (else the master key is used). */
export interface EncryptionRequest {
  sse: ObjectEncryption;
  customerKey?: Buffer;
  /** The body is already ciphertext, sealed so (`offload migrate`, sealed-transfer.ts): stored as it is. */
  sealed?: SealedAsIs;
}

/** How a body that is already ciphertext was sealed: its segment's encryption, and the plaintext's MD5 and size. */
export interface SealedAsIs {
  /** Absent only for an empty body (no blob, no data key). */
  enc?: SegmentEncryption;
  md5: Buffer;
  size: number;
}
