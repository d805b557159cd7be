/**
 * Keys: every encrypted blob has its own random 256-bit data key, stored only wrapped (AES-256-GCM)
 * by a key-encryption key: the server's master key (SSE-S3), or the customer's key (SSE-C), which
 * the server never stores. The master key lives in a file outside the data folder
 * (--master-key-file), 64 hex characters, readable by its owner only.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { S3Error } from '../../errors/s3-error.js';

export interface MasterKey {
  /** Names the key without revealing it: which master key wrapped a data key (rotation, a wrong --master-key-file). */
  id: string;
  key: Buffer;
}

const WRAP_AAD = Buffer.from('offload data key v1');

/** Reads and checks a master key file; throws a message fit for the operator when it is unusable. */
export function loadMasterKey(file: string): MasterKey {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new Error(`master key file ${file}: ${(err as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`master key file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  }
  return masterKeyFromHex(readFileSync(file, 'utf8').trim(), file);
}

export function masterKeyFromHex(hex: string, name = 'master key'): MasterKey {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${name} must hold 64 hex characters (32 random bytes, e.g. \`openssl rand -hex 32\`)`);
  const key = Buffer.from(hex, 'hex');
  return { key, id: keyIdOf(key) };
}

export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('offload master key id').digest('hex').slice(0, 16);
}

export function newDataKey(): { key: Buffer; noncePrefix: Buffer } {
  return { key: randomBytes(32), noncePrefix: randomBytes(8) };
}

/** base64(iv || wrapped key || tag). */
export function wrapKey(kek: Buffer, dataKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(WRAP_AAD);
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

export function unwrapKey(kek: Buffer, wrapped: string): Buffer {
  const raw = Buffer.from(wrapped, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
    decipher.setAAD(WRAP_AAD);
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
  } catch {
    console.error('offload: a data key could not be unwrapped (wrong key, or its metadata was altered)');
    throw new S3Error('XOffloadIntegrityError', 'A data key could not be unwrapped: wrong key, or the metadata was altered.');
  }
}

/** What the server keeps of an SSE-C key: a salted HMAC, enough to tell "same key" and nothing more. */
export function customerKeyFingerprint(customerKey: Buffer, salt: string = randomBytes(16).toString('base64')): { salt: string; hmac: string } {
  return { salt, hmac: createHmac('sha256', Buffer.from(salt, 'base64')).update(customerKey).digest('base64') };
}

export function customerKeyMatches(customerKey: Buffer, stored: { salt: string; hmac: string }): boolean {
  const mine = Buffer.from(customerKeyFingerprint(customerKey, stored.salt).hmac, 'base64');
  const theirs = Buffer.from(stored.hmac, 'base64');
  return mine.length === theirs.length && timingSafeEqual(mine, theirs);
}
