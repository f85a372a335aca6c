import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createAs4TlsClient, type As4TlsClient, type TlsPeerPins, type TrustStore } from '../pki/index.js';
import type { QerdsConfig } from '../config/index.js';
import type { DirectoryEntry } from '../directory/index.js';

/**
 * The AS4 client's TLS from `config.as4.tls`: the AP's client certificate (its `http.tls` certificate, or
 * the dev PKI's TLS certificate) and the anchors a peer's server certificate must chain to (the AP's trust
 * store, with its CRLs, unless `as4.tls.ca` names others).
 */
export function loadAs4TlsClient(config: QerdsConfig, trust: TrustStore): As4TlsClient {
  const files = config.files.as4TlsClient;
  const client =
    !files.optional || (existsSync(files.cert.path) && existsSync(files.key.path))
      ? { cert: files.cert.path, key: files.key.path }
      : undefined;
  const ca = config.as4.tls.ca
    ? config.as4.tls.ca.map((file) => readFileSync(file))
    : trust.anchors.map((a) => a.toString());
  // With the trust store's anchors come its CRLs: a revoked peer TLS certificate fails the handshake.
  // Read at each connection pool's use: the store's CRLs are refreshed while the AP runs (pki.crlRefresh).
  const crl = config.as4.tls.ca ? [] : () => trust.crls;
  return createAs4TlsClient({
    ca,
    crl,
    ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
  });
}

/** The TLS pins the directory gives for a peer AP (its certificate and/or SPKI pins); undefined: none. */
export function peerTlsPins(entry: DirectoryEntry | undefined): TlsPeerPins | undefined {
  if (!entry?.apTlsCertificatePem && !entry?.apTlsPins?.length) return undefined;
  return {
    spki: entry.apTlsPins ?? [],
    certificates: entry.apTlsCertificatePem ? [new X509Certificate(entry.apTlsCertificatePem)] : [],
  };
}
