/**
 * The TLS port: HTTP/2 and HTTP/1.1 on one socket (ALPN picks), TLS 1.2 and 1.3 only, the
 * certificate chosen per handshake by SNI from the CertificateSet, and the same guards and front
 * door as the plain port. A reload or a new ACME certificate changes what the next handshake
 * gets; open connections keep theirs.
 */
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { TLS_VERSIONS } from './certificates.js';
import type { CertificateSet } from './certificate-set.js';
import { adaptHttp2, isHttp2 } from './h2-compat.js';
import { answerClientError, connectionsCheckingInterval, continueRequests, guardedRequests, type ConnectionGuards } from '../listeners.js';

export interface TlsListenerOptions {
  certificates: CertificateSet;
  guards: ConnectionGuards;
  /** `--hsts`: Strict-Transport-Security max-age on every TLS answer. */
  hstsMaxAge?: number;
  /** An answer for a handshake whose name no certificate covers yet (ACME on demand). */
  onUnknownName?: (serverName: string) => Promise<SecureContext | undefined>;
}

/** The TLS server, and how to end its connections at shutdown (http2's server has no closeAllConnections). */
export interface TlsListener {
  server: Http2SecureServer;
  /** GOAWAY to every HTTP/2 session: streams in flight finish, no new ones start. */
  closeSessions(): void;
  /** Cuts every TLS connection still open (after the shutdown grace). */
  destroyAll(): void;
}

export function tlsListener(handler: RequestListener, opts: TlsListenerOptions): TlsListener {
  const { certificates, guards } = opts;
  const initial = certificates.defaultCertificate;
  const hsts = opts.hstsMaxAge === undefined ? undefined : `max-age=${opts.hstsMaxAge}`;
  const adapted: RequestListener = (req, res) => {
    if (isHttp2(req)) adaptHttp2(req as unknown as Http2ServerRequest, res as unknown as Http2ServerResponse);
    if (hsts !== undefined) res.setHeader('Strict-Transport-Security', hsts);
    handler(req, res);
  };
  const server = createSecureServer(
    {
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...TLS_VERSIONS,
      ...(initial ? { cert: initial.certPem, key: initial.keyPem } : {}),
      // A client that opens a connection and never completes the handshake is cut as one that never sends its headers.
      handshakeTimeout: guards.headerTimeoutMs,
      SNICallback: (serverName, done) => {
        const held = certificates.find(serverName);
        if (held || !opts.onUnknownName) return done(null, (held ?? certificates.defaultCertificate)?.context);
        opts.onUnknownName(serverName).then(
          (context) => done(null, context ?? certificates.defaultCertificate?.context),
          () => done(null, certificates.defaultCertificate?.context),
        );
      },
    },
    guardedRequests(adapted, guards) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  // Clients without SNI (an IP address in the URL) get the default certificate: keep it current.
  certificates.onDefaultChange = (cert) => server.setSecureContext({ cert: cert.certPem, key: cert.keyPem, ...TLS_VERSIONS });
  // HTTP/1.1 over TLS has the plain port's header deadline and keep-alive.
  Object.assign(server, { headersTimeout: guards.headerTimeoutMs, requestTimeout: 0, keepAliveTimeout: 30_000, connectionsCheckingInterval: connectionsCheckingInterval(guards) });
  guards.cap.attachTls(server);
  server.setTimeout(300_000);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket));
  const onContinue = continueRequests(adapted, guards) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  server.on('checkContinue', onContinue);
  // Node's HTTP/2 layer takes only a lower-case `100-continue` as such and answers any other
  // spelling 417; the AWS SDK for Go (rclone) sends `100-Continue`, which HTTP/1.1 accepts.
  server.on('checkExpectation', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (/^\s*100-continue\s*$/i.test(req.headers.expect ?? '')) return onContinue(req, res);
    res.writeHead(417, { 'Content-Length': 0 });
    res.end();
  });
  // A failed handshake (a scanner, a client that distrusts the certificate) is not the server's error.
  server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  server.on('sessionError', () => undefined);
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Set<Socket>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    server,
    closeSessions: () => { for (const s of sessions) s.close(); },
    destroyAll: () => { for (const s of sockets) s.destroy(); },
  };
}

export type { IncomingMessage, ServerResponse };
