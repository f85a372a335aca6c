import { createHash, X509Certificate } from 'node:crypto';

/**
 * Per-peer TLS certificate pins (the directory names them for a peer AP). A pin is either
 * `sha256/<base64>`, the SHA-256 of the certificate's DER SubjectPublicKeyInfo (RFC 7469 §2.4, as curl's
 * `--pinnedpubkey` and HPKP write it; survives a renewal with the same key), or a whole certificate.
 */
export interface TlsPeerPins {
  /** `sha256/<base64 of SHA-256(SPKI DER)>` values; any one matching is enough. */
  readonly spki?: readonly string[];
  /** Certificates the peer's leaf must be exactly one of. */
  readonly certificates?: readonly X509Certificate[];
}

/** The `sha256/…` SPKI pin of a certificate (for configuration files and error messages). */
export function spkiPin(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

export function hasPins(pins: TlsPeerPins | undefined): pins is TlsPeerPins {
  return (pins?.spki?.length ?? 0) + (pins?.certificates?.length ?? 0) > 0;
}

/**
 * Why `certificate` does not satisfy `pins`, or undefined when it does (or there are no pins). The chain is
 * checked elsewhere: a pin narrows the trusted CAs' certificates to the one peer the directory names
 * (threat: any certificate a trusted CA issued — mis-issued, or another AP's — impersonating the peer).
 */
export function pinMismatch(certificate: X509Certificate, pins: TlsPeerPins | undefined): string | undefined {
  if (!hasPins(pins)) return undefined;
  const pin = spkiPin(certificate);
  if (pins.spki?.includes(pin)) return undefined;
  if (pins.certificates?.some((c) => c.fingerprint256 === certificate.fingerprint256)) return undefined;
  return `certificate "${certificate.subject.replaceAll('\n', ', ')}" (${pin}) matches none of the ${(pins.spki?.length ?? 0) + (pins.certificates?.length ?? 0)} pin(s) the directory gives for this peer`;
}
