/**
 * HTTPS for `offload serve`: the certificate set (files and ACME), the TLS listener on its port,
 * file reloads and ACME renewals, and what the plain listeners need from it (the challenge
 * answers, the TLS port for redirects). index.ts only wires this in.
 */
import type { RequestListener } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import { CertificateSet } from './certificate-set.js';
import { CertificateFileWatcher, loadCertificateFiles } from './file-certificates.js';
import { tlsListener } from './listener.js';
import { PendingChallenges } from './acme/challenges.js';
import { AcmeManager } from './acme/manager.js';
import type { ClaimSources } from './acme/claims.js';
import type { TlsServeOptions } from './options.js';
import { listen, type ConnectionGuards } from '../listeners.js';

export interface TlsRuntime {
  server: Http2SecureServer;
  /** Set once listening (0 in the options picks a free one). */
  port: number;
  /** HTTP-01 answers for the plain listeners; undefined without ACME. */
  challenges?: PendingChallenges;
  acme?: AcmeManager;
  listen(host: string): Promise<number>;
  /** Stops reloads and renewals, and sends GOAWAY to HTTP/2 sessions (their streams in flight finish). */
  stop(): void;
  /** Cuts the TLS connections still open (after the shutdown grace). */
  destroyConnections(): void;
}

export interface TlsDeps {
  dataDir: string;
  guards: ConnectionGuards;
  claims: ClaimSources;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** Checks the certificate files (a bad pair throws with its reason) and builds the TLS listener around `handler`. */
export function prepareTls(opts: TlsServeOptions, handler: RequestListener, deps: TlsDeps): TlsRuntime {
  const certificates = new CertificateSet();
  certificates.setFiles(loadCertificateFiles(opts.files));
  const challenges = opts.acme ? new PendingChallenges() : undefined;
  const acme = opts.acme
    ? new AcmeManager({ options: opts.acme, dataDir: deps.dataDir, certificates, challenges: challenges!, claims: deps.claims, log: deps.log, env: deps.env })
    : undefined;
  const listener = tlsListener(handler, {
    certificates,
    guards: deps.guards,
    hstsMaxAge: opts.hstsMaxAge,
    // A claimed name with no certificate yet (a bucket made since the last check): the handshake
    // waits for its order; any other name gets the default certificate without a word to the CA.
    onUnknownName: acme && ((name) => acme.ensure(name).then((cert) => cert?.context)),
  });
  const watcher = opts.files.length > 0 ? new CertificateFileWatcher(opts.files, certificates, deps.log) : undefined;
  const { server } = listener;
  const runtime: TlsRuntime = {
    server,
    port: opts.port,
    challenges,
    acme,
    async listen(host) {
      runtime.port = await listen(server, opts.port, host);
      watcher?.start();
      acme?.start();
      return runtime.port;
    },
    stop() {
      watcher?.stop();
      acme?.stop();
      listener.closeSessions();
    },
    destroyConnections: () => listener.destroyAll(),
  };
  return runtime;
}
