/**
 * Content-Type by file extension (the `mime` package; never the OS registry), with charset on text
 * types. Names no table knows get text/plain when their first bytes are valid UTF-8 without NULs.
 */
import { open } from 'node:fs/promises';
import { OCTET_STREAM, PLAIN_TEXT, SNIFF_BYTES, typeByName, withCharset } from '../../media/content-type.js';

export { OCTET_STREAM, PLAIN_TEXT, SNIFF_BYTES, typeByName, withCharset };

/**
 * True when the bytes are UTF-8 without NULs. A multi-byte character cut at the end of a
 * prefix (when `truncated`) is allowed.
 */
export function looksLikeUtf8Text(bytes: Uint8Array, truncated: boolean): boolean {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b === 0) return false;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [need, cp] = [1, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [need, cp] = [2, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [need, cp] = [3, b & 0x07];
    else return false;
    for (let j = 1; j <= need; j++) {
      if (i + j >= n) return truncated; // a character cut at the end of the prefix
      const c = bytes[i + j]!;
      if ((c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** Type for bytes of a file no table knows: UTF-8 text or octet-stream. */
export function sniffType(prefix: Uint8Array, truncated: boolean): string {
  return looksLikeUtf8Text(prefix, truncated) ? PLAIN_TEXT : OCTET_STREAM;
}

/** Reads up to SNIFF_BYTES of a file and sniffs it. */
export async function sniffFile(path: string, size: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return sniffType(buf.subarray(0, bytesRead), size > bytesRead);
  } finally {
    await fh.close();
  }
}

/** Content-Type for a local file: by name, else by its first bytes. */
export async function contentTypeForFile(name: string, path: string, size: number): Promise<string> {
  return typeByName(name) ?? (await sniffFile(path, size));
}
