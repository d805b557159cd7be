/** Shared pieces of the encryption-at-rest tests: key files, SSE-C keys, and a search of the data folder. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function masterKeyFile(dir = mkdtempSync(join(tmpdir(), 'offload-key-')), mode = 0o600): string {
  const file = join(dir, `master-${randomBytes(4).toString('hex')}.key`);
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode });
  return file;
}

export function customerKey(): { key: Buffer; b64: string; md5: string } {
  const key = randomBytes(32);
  return { key, b64: key.toString('base64'), md5: createHash('md5').update(key).digest('base64') };
}

export function ssecHeaders(k: { b64: string; md5: string }, prefix = 'x-amz-server-side-encryption-customer-'): Record<string, string> {
  return { [`${prefix}algorithm`]: 'AES256', [`${prefix}key`]: k.b64, [`${prefix}key-md5`]: k.md5 };
}

/** Every file under the folder (database, WAL, blobs) that contains the marker. */
export function filesContaining(dir: string, marker: string): string[] {
  const needle = Buffer.from(marker);
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(needle)) hits.push(path);
  }
  return hits;
}

/** A body of `size` bytes with the marker repeated through it (so any frame would show it). */
export function markedBody(marker: string, size: number): Buffer {
  const unit = Buffer.from(`${marker}:`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += unit.length) unit.copy(out, i, 0, Math.min(unit.length, size - i));
  return out;
}
