/**
 * `--tls-cert FILE --tls-key FILE` pairs: read and checked at start-up (a bad pair stops the
 * server with its reason), then read again on SIGHUP and when a file changes (certbot or an
 * operator replacing it). A reload that fails keeps the certificates in use and says why in one
 * line: a half-written file must not take the site down.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadCertificate, type LoadedCertificate } from './certificates.js';
import type { CertificateSet } from './certificate-set.js';

export interface CertificateFiles {
  cert: string;
  key: string;
}

/** Several writes land when a file is replaced (truncate, write, rename): one reload after they settle. */
const DEBOUNCE_MS = 300;

export function loadCertificateFiles(files: CertificateFiles[], now = new Date()): LoadedCertificate[] {
  return files.map(({ cert, key }) => {
    const label = `--tls-cert ${cert} / --tls-key ${key}`;
    let certPem: string;
    let keyPem: string;
    try {
      certPem = readFileSync(cert, 'utf8');
      keyPem = readFileSync(key, 'utf8');
    } catch (err) {
      throw new Error(`${label}: ${(err as Error).message}`);
    }
    return loadCertificate({ certPem, keyPem, label }, now);
  });
}

export class CertificateFileWatcher {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onHup = () => this.reload('SIGHUP');

  constructor(
    private readonly files: CertificateFiles[],
    private readonly set: CertificateSet,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    process.on('SIGHUP', this.onHup);
    // The folders are watched, not the files: a file replaced by rename (certbot, `mv`) would
    // leave a watcher on the old inode.
    const folders = new Map<string, Set<string>>();
    for (const { cert, key } of this.files) {
      for (const file of [cert, key]) {
        const names = folders.get(dirname(file)) ?? new Set<string>();
        names.add(basename(file));
        folders.set(dirname(file), names);
      }
    }
    for (const [folder, names] of folders) {
      try {
        const watcher = watch(folder, { persistent: false }, (_event, name) => {
          if (name === null || names.has(name.toString())) this.schedule();
        });
        watcher.on('error', () => undefined);
        this.watchers.push(watcher);
      } catch {
        // A folder that cannot be watched still reloads on SIGHUP.
      }
    }
  }

  stop(): void {
    process.off('SIGHUP', this.onHup);
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload('file change'), DEBOUNCE_MS);
    this.timer.unref();
  }

  /** Reads every pair again; all or nothing, so a renewal that rewrote one file of two waits for the other. */
  reload(why: string): boolean {
    try {
      const certs = loadCertificateFiles(this.files);
      this.set.setFiles(certs);
      this.log(`offload: TLS certificates reloaded (${why}): ${certs.map((c) => `${c.names.join(',')} until ${c.notAfter.toISOString()}`).join('; ')}`);
      return true;
    } catch (err) {
      this.log(`offload: TLS certificate reload (${why}) failed, the previous certificates stay in use: ${(err as Error).message}`);
      return false;
    }
  }
}
