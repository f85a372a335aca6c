import { randomBytes } from 'node:crypto';
import { ORGANIZATION_IDENTIFIER_OID } from './dev-ap-id.js';
import { webCrypto as crypto, x509 } from './x509.js';

/*
 * Certificate and CRL issuance for the dev PKI, on @peculiar/x509 with node's WebCrypto, which is passed to
 * every call (see ./x509.ts): importing this module changes no global crypto provider.
 */

/** RSA PKCS#1 v1.5 with SHA-256: what every verifier we interoperate with (openssl, xmlsec1, Java) accepts. */
export const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface GeneratedKey {
  readonly keys: CryptoKeyPair;
  /** PKCS#8 PEM of the private key. */
  readonly pkcs8Pem: string;
}

/** A new RSA key pair (extractable, so it can be written as PKCS#8 and into a PKCS#12). */
export async function generateRsaKey(modulusLength = 2048): Promise<GeneratedKey> {
  const keys = (await crypto.subtle.generateKey(
    { ...RSA_SHA256, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keys, pkcs8Pem: toPem(der, 'PRIVATE KEY') };
}

/** ECDSA on P-256 (secp256r1): the curve QTSPs offer for e-seals beside RSA; a signature costs a fraction of RSA-2048's. */
export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A new ECDSA P-256 key pair (extractable, so it can be written as PKCS#8). */
export async function generateEcKey(): Promise<GeneratedKey> {
  const keys = (await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keys, pkcs8Pem: toPem(der, 'PRIVATE KEY') };
}

/**
 * A new Ed25519 key pair (extractable): the AS4 signing key of eDelivery AS4 2.0, whose P-Modes sign with EdDSA
 * (xmldsig-more#eddsa-ed25519).
 */
export async function generateEd25519Key(): Promise<GeneratedKey> {
  const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keys, pkcs8Pem: toPem(der, 'PRIVATE KEY') };
}

/**
 * A new X25519 key pair (extractable): the AS4 encryption key of eDelivery AS4 2.0 (key agreement with a sender's
 * ephemeral key). It cannot sign, so no CSR proves its possession: the CA certifies the public key as given.
 */
export async function generateX25519Key(): Promise<GeneratedKey> {
  const keys = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keys, pkcs8Pem: toPem(der, 'PRIVATE KEY') };
}

/** Import a PKCS#8 PEM RSA key as a WebCrypto signing key. */
export async function importRsaSigningKey(pkcs8Pem: string): Promise<CryptoKey> {
  const der = new Uint8Array(fromPem(pkcs8Pem));
  return crypto.subtle.importKey('pkcs8', der, RSA_SHA256, false, ['sign']);
}

/** A positive 128-bit serial number in hex (RFC 5280 allows up to 20 octets; positive, non-zero). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

export type NameSpec = x509.JsonName;

/** A JSON name in the order C, O, OU?, organizationIdentifier?, CN — the order it is DER-encoded in. */
export function devName(
  commonName: string,
  organizationalUnit?: string,
  organizationIdentifier?: string,
): NameSpec {
  const name: NameSpec = [{ C: ['JP'] }, { O: ['qerds-ap DEV ONLY'] }];
  if (organizationalUnit) name.push({ OU: [organizationalUnit] });
  if (organizationIdentifier) name.push({ [ORGANIZATION_IDENTIFIER_OID]: [organizationIdentifier] });
  name.push({ CN: [commonName] });
  return name;
}

export interface CertProfile {
  readonly subject: NameSpec;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyUsage: x509.KeyUsageFlags;
  readonly extendedKeyUsage?: { readonly usages: readonly string[]; readonly critical: boolean };
  readonly san?: x509.JsonGeneralNames;
}

/** A self-signed root CA: basicConstraints CA critical, keyUsage keyCertSign + cRLSign, SKI. */
export async function issueRootCa(
  key: CryptoKeyPair,
  subject: NameSpec,
  notBefore: Date,
  notAfter: Date,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: subject,
      notBefore,
      notAfter,
      keys: key,
      signingAlgorithm: RSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(key.publicKey, false, crypto),
      ],
    },
    crypto,
  );
}

/** An end-entity certificate issued by `ca`: basicConstraints CA:FALSE, keyUsage critical, SKI, AKI. */
export async function issueLeaf(
  ca: { readonly cert: x509.X509Certificate; readonly signingKey: CryptoKey },
  publicKey: CryptoKey,
  profile: CertProfile,
): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(profile.keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, crypto),
  ];
  if (profile.extendedKeyUsage) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        [...profile.extendedKeyUsage.usages],
        profile.extendedKeyUsage.critical,
      ),
    );
  }
  if (profile.san) extensions.push(new x509.SubjectAlternativeNameExtension(profile.san, false));
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: profile.subject,
      issuer: ca.cert.subjectName,
      notBefore: profile.notBefore,
      notAfter: profile.notAfter,
      publicKey,
      signingKey: ca.signingKey,
      signingAlgorithm: RSA_SHA256,
      extensions,
    },
    crypto,
  );
}

export interface CrlEntry {
  /** Hex serial number of the revoked certificate. */
  readonly serialNumber: string;
  readonly revocationDate: Date;
  readonly reason?: x509.X509CrlReason;
}

/** A v2 CRL signed by `ca`, with authorityKeyIdentifier and cRLNumber extensions. */
export async function issueCrl(
  ca: { readonly cert: x509.X509Certificate; readonly signingKey: CryptoKey },
  params: {
    readonly crlNumber: bigint;
    readonly thisUpdate: Date;
    readonly nextUpdate: Date;
    readonly entries: readonly CrlEntry[];
  },
): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create(
    {
      issuer: ca.cert.subjectName,
      thisUpdate: params.thisUpdate,
      nextUpdate: params.nextUpdate,
      signingKey: ca.signingKey,
      signingAlgorithm: RSA_SHA256,
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, crypto),
        new x509.Extension(OID_CRL_NUMBER, false, derInteger(params.crlNumber)),
      ],
      entries: params.entries.map((e) => ({
        serialNumber: e.serialNumber,
        revocationDate: e.revocationDate,
        ...(e.reason === undefined ? {} : { reason: e.reason }),
      })),
    },
    crypto,
  );
}

export const OID_CRL_NUMBER = '2.5.29.20';

/** DER INTEGER of a non-negative bigint. */
export function derInteger(value: bigint): Uint8Array<ArrayBuffer> {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x02, body.length]), body]));
}

/** PEM with the label OpenSSL expects (`X509 CRL`; @peculiar/x509 writes `CRL`, which openssl refuses). */
export function crlPem(crl: x509.X509Crl): string {
  return toPem(Buffer.from(crl.rawData), 'X509 CRL');
}

export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export function fromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
