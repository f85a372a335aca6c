import { X509Certificate } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { QerdsError } from '../core/index.js';
import { hasPins, pinMismatch, type TlsPeerPins } from './tls-pin.js';

/** One request of the AS4 client (a POST of a message, in practice), answered in full by an As4HttpClient. */
export interface As4HttpRequest {
  /** @defaultValue 'POST' */
  readonly method?: 'POST' | 'GET';
  readonly headers: Readonly<Record<string, string>>;
  /** In memory, or a node Readable streamed with the socket's back-pressure (a large payload). @defaultValue none */
  readonly body?: Buffer | Readable;
  /** Aborts the request, or the reading of its answer. @defaultValue none */
  readonly signal?: AbortSignal;
  /**
   * Largest answer body taken, bytes, counted while it arrives (and against Content-Length before): beyond it the
   * connection is dropped and the answer's `body` is undefined. Threat: a peer named by the directory or an SMP
   * streaming an unbounded answer into memory.
   */
  readonly maxResponseBytes: number;
}

/** The answer to an As4HttpRequest: status, headers (lower-case names) and the whole body. */
export interface As4HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** undefined: the answer was larger than the request's `maxResponseBytes` (and not read further). */
  readonly body: Buffer | undefined;
}

/**
 * How the AS4 client sends: node:http(s) (`requestWithNodeHttp`), plain or with the AP's TLS (below). Not fetch: for
 * a message and its receipt, fetch's Request, Response, Headers and web streams cost more CPU than the HTTP itself,
 * and it follows redirects unless told not to. No implementation follows a redirect (see sendUserMessage).
 */
export type As4HttpClient = (url: string, request: As4HttpRequest) => Promise<As4HttpAnswer>;

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
  // Plain http:// peers (no TLS here, e.g. behind a TLS-terminating proxy): one keep-alive pool, closed by close().
  const plain = new HttpAgent({ keepAlive: true, timeout: options.idleSocketMs ?? 4_000 });
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
        return requestWithNodeHttp(url, init, plain);
      }
      return requestWithNodeHttp(url, init, agentFor(pins));
    },
    close: () => {
      plain.destroy();
      for (const agent of [...agents.values(), ...retired]) agent.destroy();
      agents.clear();
      retired.clear();
    },
  };
}

/**
 * An As4HttpRequest with node:http(s), its answer read in full within `maxResponseBytes`. `agent`: the connection
 * pool (an https Agent carries the TLS options and pins); @defaultValue node's global agent (keep-alive). A redirect
 * is answered as it came (3xx), never followed.
 */
export function requestWithNodeHttp(
  url: string,
  request: As4HttpRequest,
  agent?: Agent | HttpAgent,
): Promise<As4HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (error: Error & { code?: string }) => reject(tlsError(target, error));
    const limit = request.maxResponseBytes;
    const req = send(
      target,
      {
        method: request.method ?? 'POST',
        headers: request.headers,
        ...(agent ? { agent } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      },
      (res) => {
        const answer = (body: Buffer | undefined) =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body });
        const tooLarge = () => {
          res.destroy();
          answer(undefined);
        };
        if (Number(res.headers['content-length'] ?? 0) > limit) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) tooLarge();
          else chunks.push(chunk);
        });
        res.once('end', () => answer(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
        // Cut before its end (the peer went away, or the signal aborted): no answer, whatever arrived. Not coded
        // ECONNRESET, nor with the socket's error as cause: the peer had answered, so this is no reused socket closed
        // before any answer, and the message is not sent again at once (sendUserMessage).
        const incomplete = (error?: Error) =>
          fail(
            request.signal?.aborted
              ? (request.signal.reason as Error)
              : Object.assign(
                  new Error(
                    `connection closed before the answer was complete${error ? `: ${error.message}` : ''}`,
                  ),
                  { code: 'ERR_AS4_ANSWER_INCOMPLETE' },
                ),
          );
        res.once('error', incomplete);
        res.once('close', () => {
          if (!res.complete && size <= limit) incomplete();
        });
      },
    );
    req.once('error', fail);
    const body = request.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    // A peer that answers before reading all (an early error) ends the upload; the answer still counts.
    else pipeline(body, req).catch(fail);
  });
}

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
