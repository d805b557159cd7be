/**
 * Where ACME's results live: `<data>/tls/acme/` (0700), the account key and each name's key and
 * certificate chain as files of their own (0600), so that a restart serves what it had and a
 * renewal replaces one name's pair atomically (write then rename).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class AcmeFiles {
  readonly folder: string;

  constructor(dataDir: string, directoryUrl: string) {
    // One folder per CA: a staging certificate must never be served as a production one.
    const ca = directoryUrl.replace(/^https?:\/\//, '').replace(/[^a-zA-Z0-9.-]+/g, '_').slice(0, 100);
    this.folder = join(dataDir, 'tls', 'acme', ca);
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });
  }

  readAccountKey(): string | undefined {
    return this.read('account.key');
  }

  writeAccountKey(pem: string): void {
    this.write('account.key', pem);
  }

  readCertificate(name: string): { certPem: string; keyPem: string } | undefined {
    const certPem = this.read(`${name}.crt`);
    const keyPem = this.read(`${name}.key`);
    return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
  }

  writeCertificate(name: string, certPem: string, keyPem: string): void {
    this.write(`${name}.key`, keyPem);
    this.write(`${name}.crt`, certPem);
  }

  private read(file: string): string | undefined {
    const path = join(this.folder, file);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  private write(file: string, content: string): void {
    const path = join(this.folder, file);
    writeFileSync(`${path}.tmp`, content, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
}
