import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TLS12_CIPHERS } from '../pki/index.js';
import type { QerdsConfig } from '../config/index.js';

/**
 * The AP's HTTP server: plain HTTP, or HTTPS when `http.tls` is set. TLS 1.2 is the floor (BSI TR-02102-2
 * and the eDelivery AS4 profile allow 1.2 and 1.3 only). With `requestClientCert`, clients are asked for
 * a certificate issued by `clientCa`; an untrusted one does not fail the handshake
 * (`rejectUnauthorized: false`) so that the REST API can answer 401 problem+json saying why, and clients
 * without a certificate can still use an API key or token (src/api/auth.ts refuses a presented but
 * unverified certificate). With `requireClientCert`, the handshake itself refuses clients without one.
 */
export function createApServer(
  app: RequestListener,
  tls: QerdsConfig['http']['tls'],
): { server: Server; scheme: 'http' | 'https' } {
  const { server, scheme } = tls
    ? { server: httpsServer(app, tls), scheme: 'https' as const }
    : { server: createHttpServer(app), scheme: 'http' as const };
  // Keep idle connections open longer than clients' pools do (undici: 4 s), so a client never reuses a socket
  // the server is closing at that moment: with Node's 5 s default, a client whose event loop stalled got ECONNRESET.
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  server.headersTimeout = IDLE_KEEP_ALIVE_MS + 5_000;
  return { server, scheme };
}

const IDLE_KEEP_ALIVE_MS = 65_000;

function httpsServer(app: RequestListener, tls: NonNullable<QerdsConfig['http']['tls']>): Server {
  return createHttpsServer(
    {
      cert: readFileSync(tls.cert),
      key: readFileSync(tls.key),
      ...(tls.clientCa ? { ca: readFileSync(tls.clientCa) } : {}),
      minVersion: 'TLSv1.2',
      // TLS 1.2 with ECDHE + AEAD suites only (no CBC, no static RSA key exchange); TLS 1.3 suites are all AEAD.
      ciphers: TLS12_CIPHERS,
      honorCipherOrder: true,
      requestCert: tls.requestClientCert || tls.requireClientCert,
      // requireClientCert: a client without a certificate from clientCa never gets past the handshake (AS4-only
      // listener between APs, mutual TLS); otherwise the API explains a refusal itself (see above).
      rejectUnauthorized: tls.requireClientCert,
    },
    app,
  );
}
