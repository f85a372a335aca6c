import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { QerdsError } from '../core/index.js';
import { hasPins, pinMismatch, type TlsPeerPins } from './tls-pin.js';

/** How the AS4 client posts a message: the global `fetch`, or one that speaks the AP's TLS (below). */
export type As4HttpClient = (url: string, init: RequestInit) => Promise<Response>;

export interface As4TlsClientOptions {
  /** The AP's TLS client certificate (PEM, chain after the leaf), presented when a peer asks (mutual TLS). */
  readonly cert?: string | Buffer;
  /** Its private key (PEM). */
  readonly key?: string | Buffer;
  /** Anchors a peer's server certificate must chain to (PEM). Never the system store by accident: explicit. */
  readonly ca: readonly (string | Buffer)[];
  /**
   * CRLs (PEM or DER) checked for the server certificate during the handshake (OpenSSL CRL check of the leaf:
   * each leaf's issuer then needs a current CRL here). A function is asked before each connection pool is
   * used: when it answers another array (the CRLs were refreshed), the pools are rebuilt with it.
   * @defaultValue none (no revocation check)
   */
  readonly crl?: readonly (string | Buffer)[] | (() => readonly (string | Buffer)[]);
  /** Idle keep-alive sockets are closed after this many ms (below servers' keep-alive, 65 s here). @defaultValue 4000 */
  readonly idleSocketMs?: number;
}

export interface As4TlsClient {
  /** An HTTP client for one peer: its server certificate must chain to `ca`, name the host and match `pins`. */
  forPeer(pins?: TlsPeerPins): As4HttpClient;
  /** Closes every pooled connection. */
  close(): void;
}

/** Modern suites only for TLS 1.2 (ECDHE + AEAD); TLS 1.3 suites are all AEAD (Node's defaults). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const PIN_ERROR = 'ERR_QERDS_TLS_PIN';

/**
 * AS4 over HTTPS between APs (eDelivery AS4: TLS 1.2 minimum, 1.3 recommended). The server certificate is
 * always verified (`rejectUnauthorized` stays true: a man in the middle would otherwise read and replay AS4
 * traffic) against the configured anchors, then against the peer's pins from the directory. One keep-alive
 * pool per set of pins, so that a connection verified against one peer's pins never carries another's message.
 * Failures are QerdsErrors: AS4_TLS_PIN_MISMATCH and AS4_TLS_HANDSHAKE_FAILED (retryable: the peer may
 * repair its certificate; the relay's retry budget decides), AS4_TLS_REQUIRED (not retryable).
 */
export function createAs4TlsClient(options: As4TlsClientOptions): As4TlsClient {
  const agents = new Map<string, Agent>();
  const retired = new Set<Agent>();
  const crlOf =
    typeof options.crl === 'function'
      ? options.crl
      : () => (options.crl as readonly (string | Buffer)[] | undefined) ?? [];
  let crl = crlOf();
  const agentFor = (pins: TlsPeerPins | undefined): Agent => {
    const now = crlOf();
    if (now !== crl) {
      // New CRLs: OpenSSL's CRL check lives in each agent's secure context, so new agents from now on (else
      // handshakes fail on the expired CRL). The old ones are not destroyed: requests in flight finish, and their
      // idle sockets time out (idleSocketMs); close() still destroys them.
      crl = now;
      for (const agent of agents.values()) retired.add(agent);
      agents.clear();
    }
    const key = [...(pins?.spki ?? []), ...(pins?.certificates ?? []).map((c) => c.fingerprint256)]
      .sort()
      .join(' ');
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({
        keepAlive: true,
        timeout: options.idleSocketMs ?? 4_000,
        ca: [...options.ca],
        ...(crl.length ? { crl: crl.map(crlAsPem) } : {}),
        ...(options.cert && options.key ? { cert: options.cert, key: options.key } : {}),
        minVersion: 'TLSv1.2',
        ciphers: TLS12_CIPHERS,
        rejectUnauthorized: true,
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          const nameError = checkServerIdentity(host, cert);
          if (nameError) return nameError;
          const why = pinMismatch(new X509Certificate(cert.raw), pins);
          return why ? Object.assign(new Error(why), { code: PIN_ERROR }) : undefined;
        },
      });
      agents.set(key, agent);
    }
    return agent;
  };
  return {
    forPeer: (pins) => (url, init) => {
      const target = new URL(url);
      if (target.protocol !== 'https:') {
        // A pinned peer reached over plain HTTP would make the pin meaningless (a configuration error).
        if (hasPins(pins))
          throw new QerdsError(
            'AS4_TLS_REQUIRED',
            `the directory pins a TLS certificate for ${target.host}, but its endpoint ${url} is not https`,
            { details: { retryable: false } },
          );
        // A streamed (large) body goes through node:http, which follows the socket's back-pressure; Node 20's
        // fetch reads a streamed request body ahead, about all of it into memory.
        return init.body instanceof Readable ? postWithNodeHttp(url, init) : fetch(url, init);
      }
      return postWithNodeHttp(url, init, agentFor(pins));
    },
    close: () => {
      for (const agent of [...agents.values(), ...retired]) agent.destroy();
      agents.clear();
      retired.clear();
    },
  };
}

/**
 * POST (or any method) with node:http(s), answered as a fetch Response. Takes a node Readable body as well as
 * the fetch ones, streamed with back-pressure. `agent`: an https Agent (TLS options, pins, keep-alive).
 */
export function postWithNodeHttp(url: string, init: RequestInit, agent?: Agent): Promise<Response> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    const req = send(
      target,
      {
        method: init.method ?? 'GET',
        headers,
        ...(agent ? { agent } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const status = res.statusCode ?? 502;
        const empty = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
        if (empty) res.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? '',
            headers: responseHeaders,
          }),
        );
      },
    );
    req.once('error', (error: Error & { code?: string }) => reject(tlsError(target, error)));
    const body: unknown = init.body;
    if (body === undefined || body === null) req.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    // A peer that answers before reading all (an early error) ends the upload; the answer still counts.
    else if (body instanceof Readable)
      pipeline(body, req).catch((error: Error & { code?: string }) => reject(tlsError(target, error)));
    else if (body instanceof ReadableStream)
      Readable.fromWeb(body as import('node:stream/web').ReadableStream).pipe(req);
    else if (typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === 'function')
      Readable.from(body as AsyncIterable<Uint8Array>).pipe(req);
    else req.destroy(new TypeError('unsupported request body type'));
  });
}

/** Node's TLS takes PEM CRLs only; trust stores may hold DER. */
/** A CRL as PEM, the form Node's TLS `crl` option reads (trust stores may hold DER). */
export function crlAsPem(crl: string | Buffer): string {
  const text = typeof crl === 'string' ? crl : crl.toString('latin1');
  if (text.includes('-----BEGIN X509 CRL-----')) return text;
  const der = typeof crl === 'string' ? Buffer.from(crl, 'latin1') : crl;
  return `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
}

/** TLS failures named for the operator (pin, chain, name, protocol); other errors unchanged. */
function tlsError(target: URL, error: Error & { code?: string }): Error {
  if (error.code === PIN_ERROR) {
    return new QerdsError('AS4_TLS_PIN_MISMATCH', `TLS: server ${target.host} refused: ${error.message}`, {
      cause: error,
      details: { retryable: true },
    });
  }
  // CRL_*: OpenSSL's CRL check of the peer (CRL_HAS_EXPIRED when the trust store's CRL is past nextUpdate).
  const tlsCodes = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|CRL_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL_)/;
  if (error.code && tlsCodes.test(error.code)) {
    return new QerdsError(
      'AS4_TLS_HANDSHAKE_FAILED',
      `TLS: server ${target.host} refused: ${error.message} (${error.code})`,
      { cause: error, details: { retryable: true } },
    );
  }
  return error;
}
