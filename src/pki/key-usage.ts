/**
 * keyUsage bits (RFC 5280 §4.2.1.3) as flags: named bit n is `1 << n`, the values @peculiar/x509's
 * `KeyUsageFlags` uses, so a `CertificateFacts.keyUsage` reads the same either way.
 */
export const KeyUsageFlags = Object.freeze({
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const);
