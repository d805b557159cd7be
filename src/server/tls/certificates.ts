/**
 * One certificate and its key, read from PEM, checked the way a person deploying them would want
 * to be told at start-up (a key that is not the certificate's, a certificate out of its validity
 * window), and turned into the SecureContext a TLS handshake uses.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext as tlsContext, type SecureContext } from 'node:tls';

export interface CertificatePair {
  /** The leaf first, then its chain, PEM. */
  certPem: string;
  keyPem: string;
  /** Where they came from, for messages. */
  label: string;
}

export interface LoadedCertificate {
  label: string;
  /** DNS names the leaf is valid for (SAN, else CN), lower-case; may hold `*.example.com`. */
  names: string[];
  notBefore: Date;
  notAfter: Date;
  context: SecureContext;
  /** As handed to setSecureContext for the default certificate. */
  certPem: string;
  keyPem: string;
}

/** TLS 1.2 and 1.3 only; Node's default cipher list is kept (it is the modern one). */
export const TLS_VERSIONS = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } as const;

export function loadCertificate(pair: CertificatePair, now = new Date()): LoadedCertificate {
  const leafPem = firstPemCertificate(pair.certPem, pair.label);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafPem);
  } catch (err) {
    throw new Error(`${pair.label}: the certificate cannot be read as PEM X.509 (${(err as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch (err) {
    throw new Error(`${pair.label}: the private key cannot be read as PEM (${(err as Error).message}); an encrypted key must be decrypted first`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error(`${pair.label}: the private key does not match the certificate (it belongs to another certificate)`);
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now < notBefore) throw new Error(`${pair.label}: the certificate is not valid yet (valid from ${notBefore.toISOString()})`);
  if (now > notAfter) throw new Error(`${pair.label}: the certificate has expired (on ${notAfter.toISOString()})`);
  const names = namesOf(leaf);
  if (names.length === 0) throw new Error(`${pair.label}: the certificate names no DNS name (no subjectAltName DNS entry and no CN)`);
  const context = tlsContext({ cert: pair.certPem, key: pair.keyPem, ...TLS_VERSIONS });
  return { label: pair.label, names, notBefore, notAfter, context, certPem: pair.certPem, keyPem: pair.keyPem };
}

/** The DNS names of a certificate: its subjectAltName DNS entries, or its CN when it has none (as browsers once did). */
export function namesOf(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    const dns = san.split(',').map((part) => part.trim()).filter((part) => part.startsWith('DNS:')).map((part) => part.slice(4).toLowerCase());
    const ips = san.split(',').map((part) => part.trim()).filter((part) => part.startsWith('IP Address:')).map((part) => part.slice(11).toLowerCase());
    if (dns.length + ips.length > 0) return [...dns, ...ips];
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn.trim().toLowerCase()] : [];
}

function firstPemCertificate(pem: string, label: string): string {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error(`${label}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the certificate file`);
  return match[0];
}
