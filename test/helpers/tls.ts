/**
 * A throwaway certificate authority for the HTTPS tests: certificates for any names and validity
 * window (expired, not yet valid), made in-process with WebCrypto (@peculiar/x509, which
 * acme-client already brings), written to PEM files the server reads.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** Put the names in the CN only, no subjectAltName. */
  cnOnly?: boolean;
}

export interface TestCa extends PemPair {
  /** The CA certificate as a file, for clients' --ca-bundle / --ca-certs / verify=. */
  caFile: string;
  dir: string;
  /** A leaf certificate for the names (DNS names, or IP addresses), with its chain (leaf then CA). */
  issue(names: string[], opts?: IssueOptions): Promise<PemPair>;
  /** Writes a pair as `<label>.crt` and `<label>.key` in the CA's folder. */
  write(label: string, pair: PemPair): { cert: string; key: string };
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key ));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

let serial = 1;

export async function makeTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'offload-tls-'));
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    name: 'CN=Offload Test CA',
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const caPem = caCert.toString('pem') + '\n';
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, caPem);
  return {
    certPem: caPem,
    keyPem: await keyPem(caKeys.privateKey),
    caFile,
    dir,
    async issue(names, opts = {}) {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const altNames = names.map((n) => (/^[\d.]+$/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(4, '0') + Date.now().toString(16),
        subject: `CN=${names[0]}`,
        issuer: caCert.subject,
        notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
        notAfter: opts.notAfter ?? new Date(Date.now() + 10 * DAY),
        signingAlgorithm: ALG,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          ...(opts.cnOnly ? [] : [new x509.SubjectAlternativeNameExtension(altNames)]),
        ],
      });
      return { certPem: `${cert.toString('pem')}\n${caPem}`, keyPem: await keyPem(keys.privateKey) };
    },
    write(label, pair) {
      const cert = join(dir, `${label}.crt`);
      const key = join(dir, `${label}.key`);
      writeFileSync(cert, pair.certPem);
      writeFileSync(key, pair.keyPem, { mode: 0o600 });
      return { cert, key };
    },
  };
}

/** The serial number of a PEM chain's leaf, to tell two certificates apart. */
export function serialOf(pem: string | Buffer): string {
  return new X509Certificate(pem).serialNumber;
}
