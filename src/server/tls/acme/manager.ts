/**
 * Automatic certificates: for every claimed name (claims.ts) one certificate, obtained from the
 * ACME CA with the HTTP-01 challenge (acme-client does the protocol), kept in the data folder,
 * served by SNI, and renewed once two thirds of its lifetime have passed (checked hourly). One
 * order per name at a time; a failure is logged in one line and retried later, waiting twice as
 * long each time (1 minute up to 6 hours).
 */
import { Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { axios as acmeAxios, Client, crypto as acmeCrypto } from 'acme-client';
import { loadCertificate, type LoadedCertificate } from '../certificates.js';
import type { CertificateSet } from '../certificate-set.js';
import type { AcmeOptions } from '../options.js';
import type { PendingChallenges } from './challenges.js';
import { claimedNames, isClaimed, type ClaimSources } from './claims.js';
import { AcmeFiles } from './store.js';

export interface AcmeManagerDeps {
  options: AcmeOptions;
  dataDir: string;
  certificates: CertificateSet;
  challenges: PendingChallenges;
  claims: ClaimSources;
  log: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const FIRST_RETRY_MS = 60_000;
const LAST_RETRY_MS = 6 * 3_600_000;

export class AcmeManager {
  private readonly files: AcmeFiles;
  private client: Client | undefined;
  private readonly orders = new Map<string, Promise<LoadedCertificate | undefined>>();
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private readonly refusalsLogged = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Fraction of a certificate's lifetime after which it is renewed (OFFLOAD_ACME_RENEW_AT: 0 renews at once, for tests). */
  private readonly renewAt: number;
  private readonly checkMs: number;
  private readonly firstRetryMs: number;

  constructor(private readonly deps: AcmeManagerDeps) {
    this.files = new AcmeFiles(deps.dataDir, deps.options.directoryUrl);
    this.renewAt = numberFrom(deps.env.OFFLOAD_ACME_RENEW_AT, 2 / 3);
    this.checkMs = numberFrom(deps.env.OFFLOAD_ACME_CHECK_MS, 3_600_000);
    this.firstRetryMs = numberFrom(deps.env.OFFLOAD_ACME_RETRY_MS, FIRST_RETRY_MS);
    // acme-client retries a refused or failing request up to 5 times, 5 s apart and growing: over a
    // minute before one failure is known. Two quick ones; the waits between attempts are ours.
    const settings = (acmeAxios.defaults as { acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
    if (settings) Object.assign(settings, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
    if (deps.options.caFile !== undefined) acmeAxios.defaults.httpsAgent = new Agent({ ca: readFileSync(deps.options.caFile) });
  }

  /** Serves the certificates kept from earlier runs, then obtains or renews what is due, now and hourly. */
  start(): void {
    for (const name of claimedNames(this.deps.claims)) {
      const kept = this.files.readCertificate(name);
      if (!kept) continue;
      try {
        this.deps.certificates.setIssued(name, loadCertificate({ ...kept, label: `ACME certificate for ${name}` }));
      } catch (err) {
        this.deps.log(`offload: ACME: the kept certificate for ${name} is not usable (${(err as Error).message}); obtaining a new one`);
      }
    }
    void this.check();
    this.timer = setInterval(() => void this.check(), this.checkMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every claimed name that has no certificate or one due for renewal gets an order. */
  async check(): Promise<void> {
    await Promise.all(claimedNames(this.deps.claims).map((name) => this.ensure(name)));
  }

  /**
   * The certificate for a name, ordered first when it is claimed and has none or one due. An
   * unclaimed name is refused here, before anything is sent to the CA.
   */
  ensure(rawName: string): Promise<LoadedCertificate | undefined> {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    if (!isClaimed(name, this.deps.claims)) {
      if (!this.refusalsLogged.has(name) && this.refusalsLogged.size < 1000) {
        this.refusalsLogged.add(name);
        this.deps.log(`offload: ACME: not requesting a certificate for "${name.slice(0, 100)}": no bucket, --website-domain or --acme-domain claims it`);
      }
      return Promise.resolve(undefined);
    }
    // An operator's certificate file for the name wins: nothing to order.
    if (this.deps.certificates.coveredByFiles(name)) return Promise.resolve(undefined);
    const held = this.deps.certificates.issuedFor(name);
    if (held && !this.due(held)) return Promise.resolve(held);
    const failure = this.failures.get(name);
    if (failure && Date.now() < failure.retryAt) return Promise.resolve(held);
    let order = this.orders.get(name);
    if (!order) {
      order = this.order(name, held).finally(() => this.orders.delete(name));
      this.orders.set(name, order);
    }
    return order;
  }

  private due(cert: LoadedCertificate): boolean {
    const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
    return Date.now() >= cert.notBefore.getTime() + lifetime * this.renewAt;
  }

  private async order(name: string, held: LoadedCertificate | undefined): Promise<LoadedCertificate | undefined> {
    try {
      const client = await this.acmeClient();
      const [keyPem, csr] = await acmeCrypto.createCsr({ commonName: name, altNames: [name] }, await acmeCrypto.createPrivateEcdsaKey());
      const certPem = await client.auto({
        csr,
        email: this.deps.options.email,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks the challenge itself; a self-check would need this machine to resolve the name as the world does.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type === 'http-01') this.deps.challenges.addHttp01(challenge.token, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          if (challenge.type === 'http-01') this.deps.challenges.removeHttp01(challenge.token);
        },
      });
      const cert = loadCertificate({ certPem, keyPem: keyPem.toString(), label: `ACME certificate for ${name}` });
      this.files.writeCertificate(name, certPem, keyPem.toString());
      this.deps.certificates.setIssued(name, cert);
      this.failures.delete(name);
      this.deps.log(`offload: ACME: ${held ? 'renewed' : 'obtained'} the certificate for ${name}, valid until ${cert.notAfter.toISOString()}`);
      return cert;
    } catch (err) {
      const count = (this.failures.get(name)?.count ?? 0) + 1;
      const waitMs = Math.min(LAST_RETRY_MS, this.firstRetryMs * 2 ** (count - 1));
      this.failures.set(name, { count, retryAt: Date.now() + waitMs });
      const reason = String((err as Error).message ?? err).replace(/\s+/g, ' ').slice(0, 300);
      this.deps.log(`offload: ACME: could not obtain a certificate for ${name} from ${this.deps.options.directoryUrl} (attempt ${count}, next in ${Math.round(waitMs / 1000)} s): ${reason}`);
      return held;
    }
  }

  private async acmeClient(): Promise<Client> {
    if (this.client) return this.client;
    let accountKey = this.files.readAccountKey();
    if (accountKey === undefined) {
      accountKey = (await acmeCrypto.createPrivateEcdsaKey()).toString();
      this.files.writeAccountKey(accountKey);
    }
    // A few quick retries inside one attempt (the CA's own polling and badNonce); the waits between attempts are ours.
    this.client = new Client({ directoryUrl: this.deps.options.directoryUrl, accountKey, backoffAttempts: 5, backoffMin: 1000, backoffMax: 10_000 });
    return this.client;
  }
}

function numberFrom(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
