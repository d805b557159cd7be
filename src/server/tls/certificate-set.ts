/**
 * The certificates a TLS listener holds, chosen per handshake by the name the client asked for
 * (SNI): an exact name first, then a wildcard one level up, then the default (the first pair
 * given, or the first obtained). Swapping an entry changes what new handshakes get; connections
 * already open keep the context they were made with, so a reload drops nothing.
 */
import type { SecureContext } from 'node:tls';
import type { LoadedCertificate } from './certificates.js';

export class CertificateSet {
  /** From files, in the order given; the first is the default. */
  private files: LoadedCertificate[] = [];
  /** Obtained by ACME, by name. */
  private readonly issued = new Map<string, LoadedCertificate>();
  private byName = new Map<string, LoadedCertificate>();
  /** Told when the default changes, to give the server the new one (clients without SNI get it). */
  onDefaultChange?: (cert: LoadedCertificate) => void;

  get defaultCertificate(): LoadedCertificate | undefined {
    return this.files[0] ?? this.issued.values().next().value;
  }

  setFiles(certs: LoadedCertificate[]): void {
    this.files = certs;
    this.reindex();
  }

  setIssued(name: string, cert: LoadedCertificate): void {
    const hadDefault = this.defaultCertificate !== undefined;
    this.issued.set(name, cert);
    this.reindex(!hadDefault || this.files.length === 0);
  }

  /** Whether a certificate file covers the name (then ACME leaves it alone). */
  coveredByFiles(name: string): boolean {
    const held = this.find(name);
    return held !== undefined && this.files.includes(held);
  }

  issuedFor(name: string): LoadedCertificate | undefined {
    return this.issued.get(name);
  }

  /** The certificate for a handshake's server name, or undefined when none is held for it. */
  find(serverName: string | undefined): LoadedCertificate | undefined {
    if (!serverName) return this.defaultCertificate;
    const name = serverName.toLowerCase().replace(/\.$/, '');
    const exact = this.byName.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.byName.get(`*${name.slice(dot)}`) : undefined;
  }

  contextFor(serverName: string | undefined): SecureContext | undefined {
    return (this.find(serverName) ?? this.defaultCertificate)?.context;
  }

  private reindex(defaultChanged = true): void {
    const byName = new Map<string, LoadedCertificate>();
    // Files win over issued certificates for the same name: an operator's choice is explicit.
    for (const cert of this.issued.values()) for (const name of cert.names) byName.set(name, cert);
    for (const cert of [...this.files].reverse()) for (const name of cert.names) byName.set(name, cert);
    this.byName = byName;
    const def = this.defaultCertificate;
    if (def && defaultChanged) this.onDefaultChange?.(def);
  }
}
