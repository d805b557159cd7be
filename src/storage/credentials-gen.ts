/**
 * The one generator of access key ids and secrets, for the root account (server/root-credentials.ts)
 * and `offload keys create` (keys.ts) alike: ids look like AWS's (OFL then upper-case letters and
 * digits, 20 in all), secrets are 40 letters and digits (about 238 bits), nothing a shell or a
 * config file would need quoted.
 */
import { randomBytes } from 'node:crypto';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 20;
const SECRET_LENGTH = 40;

export function randomAccessKeyId(prefix = 'OFL'): string {
  return prefix + randomString(ID_ALPHABET, ID_LENGTH - prefix.length);
}

export function randomSecret(): string {
  return randomString(SECRET_ALPHABET, SECRET_LENGTH);
}

/** Uniform over the alphabet: bytes past the largest multiple of its length are drawn again. */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}
