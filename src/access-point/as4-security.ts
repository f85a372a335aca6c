import { existsSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { ALGORITHM_SETS, type PMode } from '../as4/index.js';
import { configuredFile, type QerdsConfig } from '../config/index.js';
import { QerdsError, type QerdsErrorCode } from '../core/index.js';
import {
  checkCertificateRole,
  loadSigningIdentity,
  type SigningIdentity,
  type TrustStore,
} from '../pki/index.js';
import { certificateFrom } from '../pki/parse-cache.js';
import { ERDS_KEY_TYPES, ERDS_SERVICE, resolvePModes } from '../profiles/index.js';
import { peppolAs4Profile } from '../peppol/index.js';

/**
 * The AS4 security of this access point, from `config.as4`: its P-Modes, its encryption identity and the
 * compression settings. The same P-Modes govern what it sends and what its /as4 endpoint accepts.
 */
export interface As4Security {
  /** `as4.profile`: the AS4 profile plug-in whose conventions this AP's Dispatches follow (`peppol`: src/access-point/as4-peppol.ts). */
  readonly profile: string;
  readonly pmodes: readonly PMode[];
  /** The key peers encrypt AS4 payloads for (RSA for eDelivery AS4 1.15, X25519 for 2.0) and its certificate. */
  readonly encryption: SigningIdentity;
  /**
   * What this AP signs AS4 messages and receipts with (`as4.signingCert`/`signingKey`, else the dev PKI's AS4
   * signer, else the e-seal itself): the certificate peers pin for it as `apCertificate`.
   */
  readonly signing: SigningIdentity;
  /**
   * The identity towards qerds-ap peers over the ERDS service when this AP is on Peppol (`as4.erds`): what it signs
   * ERDS messages and their receipts with, and the further key ERDS peers may encrypt for. `signing` and
   * `encryption` themselves when `as4.erds` is not set (an AP not on Peppol has one AS4 identity).
   */
  readonly erds: { readonly signing: SigningIdentity; readonly encryption: SigningIdentity };
  /** `as4.compress`: false turns GZIP off for every P-Mode; true leaves it to each P-Mode. */
  readonly compress: boolean;
  /** Largest inflated size of one incoming payload, bytes. */
  readonly maxDecompressedBytes: number;
  /** Who may sign as a peer AP (requirePeerAp). */
  readonly peers: PeerApRules;
}

/** Which certificates may sign as a peer access point (AS4 messages, receipts, REM, returned evidence). */
export interface PeerApRules {
  /**
   * SHA-256 fingerprints (node's colon form) of this AP's own AS4 signing certificates (its e-seal by default; with
   * `as4.erds`, its Peppol AP certificate and its ERDS signer): never a peer's.
   */
  readonly ownFingerprints: readonly string[];
  /** `pki.unpinnedPeers`: a peer the directory pins no AP certificate for is taken on its certificate's role. */
  readonly unpinned: boolean;
}

/**
 * Load `config.as4` and check that this AP can keep its own P-Modes: its AS4 signing key (the e-seal unless
 * `as4.signingCert` or the dev PKI names another) signs with each P-Mode's
 * signature algorithm and its encryption key fits each P-Mode's key protection. A mismatch is CONFIG_INVALID
 * at start, not an EBMS:0103 from every peer later.
 */
export function loadAs4Security(config: QerdsConfig, seal: SigningIdentity): As4Security {
  if (config.as4.erds && config.as4.profile !== peppolAs4Profile.id)
    throw new QerdsError(
      'CONFIG_INVALID',
      `as4.erds is the ERDS identity of an AP on Peppol (as4.profile peppol); an AP on ${config.as4.profile} signs with as4.signingCert`,
    );
  const files = { cert: config.files.as4Encryption.cert.path, key: config.files.as4Encryption.key.path };
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    throw new QerdsError(
      'CONFIG_INVALID',
      `as4: encryption certificate ${files.cert} or its key not found (run \`qerds pki init\` to add it to a dev PKI)`,
    );
  }
  const encryption = loadSigningIdentity(files.cert, files.key);
  const signing = loadAs4Signing(config, seal);
  const mainSigning = signing;
  const mainEncryption = encryption;
  const erds = loadErdsIdentity(config, seal, { signing, encryption });
  const pmodes = resolvePModes(config.as4).map((p) => p.pmode);
  for (const pmode of pmodes) {
    // With `as4.erds`, the ERDS service's P-Modes are kept with the ERDS identity, the Peppol ones with the Peppol AP's.
    const { signing, encryption } =
      pmode.service === ERDS_SERVICE ? erds : { signing: mainSigning, encryption: mainEncryption };
    const signer =
      signing === seal
        ? 'e-seal'
        : signing === mainSigning
          ? `AS4 signing key (${config.files.as4Signing.cert.setting})`
          : 'ERDS AS4 signing key (as4.erds.signingCert)';
    const want = ERDS_KEY_TYPES[pmode.security.algorithmSet];
    if (signing.privateKey.asymmetricKeyType !== want.signature) {
      throw new QerdsError(
        'CONFIG_INVALID',
        `as4: P-Mode ${pmode.id} (${pmode.security.algorithmSet}) signs with ${ALGORITHM_SETS[pmode.security.algorithmSet].signature}, which needs a ${want.signature} ${signer}, not ${signing.privateKey.asymmetricKeyType}${signing === seal ? ' (set as4.signingCert and as4.signingKey to sign AS4 with a key apart from the e-seal)' : ''}`,
      );
    }
    if (encryption.privateKey.asymmetricKeyType !== want.encryption) {
      throw new QerdsError(
        'CONFIG_INVALID',
        `as4: P-Mode ${pmode.id} (${pmode.security.algorithmSet}) needs a ${want.encryption} encryption key, not ${encryption.privateKey.asymmetricKeyType}`,
      );
    }
  }
  const peers = Object.freeze({
    ownFingerprints: Object.freeze([
      ...new Set([signing.certificate.fingerprint256, erds.signing.certificate.fingerprint256]),
    ]),
    unpinned: config.pki.unpinnedPeers,
  });
  return Object.freeze({
    profile: config.as4.profile,
    pmodes: Object.freeze(pmodes),
    encryption,
    signing,
    erds: Object.freeze(erds),
    compress: config.as4.compress,
    maxDecompressedBytes: config.as4.maxDecompressedBytes,
    peers,
  });
}

/**
 * The AS4 signing identity (ConfigFiles.as4Signing): the configured pair, else the dev PKI's when both files
 * exist, else `seal`. Its certificate must have the role of an AS4 signer (pki/certificate-roles.ts), as peers
 * that do not pin it will check.
 */
function loadAs4Signing(config: QerdsConfig, seal: SigningIdentity): SigningIdentity {
  const { as4Signing } = config.files;
  if ((config.as4.signingCert === undefined) !== (config.as4.signingKey === undefined))
    throw new QerdsError('CONFIG_INVALID', 'as4.signingCert and as4.signingKey are set together, or neither');
  if (as4Signing.optional && !(existsSync(as4Signing.cert.path) && existsSync(as4Signing.key.path)))
    return seal;
  const signing = loadSigningIdentity(configuredFile(as4Signing.cert), configuredFile(as4Signing.key));
  // A Peppol AP certificate (OpenPeppol AP CA) carries clientAuth alone and signs AS4 all the same.
  const role = checkCertificateRole(signing.certificate, 'as4-signer', {
    tlsEkuSigners: config.as4.profile === peppolAs4Profile.id,
  });
  if (role.some((f) => f.severity === 'error'))
    throw new QerdsError(
      'CONFIG_INVALID',
      `${as4Signing.cert.setting}: not an AS4 signing certificate: ${role.map((f) => f.message).join('; ')}`,
    );
  return signing;
}

/**
 * The ERDS identity of an AP on Peppol (`as4.erds`): its signer defaults to the e-seal (as an AP not on Peppol signs),
 * its encryption pair to `as4.encryptionCert`. The signer must be an AS4 signer to ERDS peers, which do not take
 * TLS-only certificates (a Peppol AP certificate) as one. Without `as4.erds`, the AP's one AS4 identity (`main`).
 */
function loadErdsIdentity(
  config: QerdsConfig,
  seal: SigningIdentity,
  main: { signing: SigningIdentity; encryption: SigningIdentity },
): { signing: SigningIdentity; encryption: SigningIdentity } {
  const settings = config.as4.erds;
  if (!settings) return main;
  const pairOf = (certKey: 'signingCert' | 'encryptionCert', keyKey: 'signingKey' | 'encryptionKey') => {
    const cert = settings[certKey];
    const key = settings[keyKey];
    if ((cert === undefined) !== (key === undefined))
      throw new QerdsError(
        'CONFIG_INVALID',
        `as4.erds.${certKey} and as4.erds.${keyKey} are set together, or neither`,
      );
    if (cert === undefined || key === undefined) return undefined;
    return loadSigningIdentity(
      configuredFile({ path: cert, setting: `as4.erds.${certKey}` }),
      configuredFile({ path: key, setting: `as4.erds.${keyKey}` }),
    );
  };
  const signing = pairOf('signingCert', 'signingKey') ?? seal;
  const role = checkCertificateRole(signing.certificate, 'as4-signer');
  if (role.some((f) => f.severity === 'error'))
    throw new QerdsError(
      'CONFIG_INVALID',
      `${signing === seal ? 'pki.sealCert (the default of as4.erds.signingCert)' : 'as4.erds.signingCert'}: not an AS4 signing certificate for ERDS peers: ${role.map((f) => f.message).join('; ')}`,
    );
  return { signing, encryption: pairOf('encryptionCert', 'encryptionKey') ?? main.encryption };
}

/** The push P-Mode this AP sends `service`/`action` under; none is a configuration error no retry can mend. */
export function outgoingPMode(security: As4Security, service: string, action: string): PMode {
  const pmode = security.pmodes.find((p) => p.service === service && p.action === action);
  if (!pmode)
    throw new QerdsError('AS4_EBMS_0010', `no push P-Mode for service ${service}, action ${action}`, {
      details: { retryable: false },
    });
  return pmode;
}

/**
 * The certificate to encrypt a message under `pmode` for, from the peer AP's directory entry; undefined
 * when the entry names none and the P-Mode does not want encryption. Not retryable: the directory must change.
 * The certificate must chain to our trust anchors (unrevoked, valid now) and fit the P-Mode's algorithm set:
 * encrypting for a certificate anyone could have put in a directory would hand the content to its holder.
 */
export function peerEncryptionCertificate(
  pmode: PMode,
  pem: string | undefined,
  trust: TrustStore,
  at: Date,
): X509Certificate | undefined {
  const refuse = (code: QerdsErrorCode, why: string): never => {
    throw new QerdsError(code, why, { details: { retryable: false } });
  };
  if (!pem) {
    if (!pmode.security.encrypt) return undefined;
    return refuse(
      'AS4_ENCRYPTION_CERT_MISSING',
      `P-Mode ${pmode.id} requires encryption, but the directory names no AS4 encryption certificate for the receiving AP`,
    );
  }
  let certificate: X509Certificate;
  try {
    certificate = certificateFrom(pem);
  } catch (cause) {
    return refuse(
      'AS4_ENCRYPTION_CERT_INVALID',
      `the receiving AP's AS4 encryption certificate cannot be read: ${(cause as Error).message}`,
    );
  }
  const want = ERDS_KEY_TYPES[pmode.security.algorithmSet].encryption;
  if (certificate.publicKey.asymmetricKeyType !== want) {
    refuse(
      'AS4_ENCRYPTION_CERT_INVALID',
      `P-Mode ${pmode.id} (${pmode.security.algorithmSet}) encrypts for ${want} keys; the receiving AP's certificate holds ${certificate.publicKey.asymmetricKeyType}`,
    );
  }
  const path = trust.validate(certificate, { at });
  if (!path.valid) {
    const errors = path.findings.filter((f) => f.severity === 'error').map((f) => f.message);
    refuse(
      'AS4_ENCRYPTION_CERT_INVALID',
      `the receiving AP's AS4 encryption certificate is not trusted: ${errors.join('; ')}`,
    );
  }
  return certificate;
}

/**
 * The relay's retry budget: the AP-wide `relay` settings, narrowed by the Dispatch P-Mode's
 * ReceptionAwareness (`reliability.retries` → attempts, `reliability.retryIntervalMs` → first delay) when it sets them.
 */
export function relayRetryPolicy(
  relay: QerdsConfig['relay'],
  dispatch: PMode | undefined,
): QerdsConfig['relay'] {
  const reliability = dispatch?.reliability;
  return {
    ...relay,
    ...(reliability?.retries !== undefined ? { maxAttempts: reliability.retries + 1 } : {}),
    ...(reliability?.retryIntervalMs !== undefined ? { baseDelayMs: reliability.retryIntervalMs } : {}),
  };
}

/**
 * Whether `signer` may speak as the AP the directory entry `entry` names for `participant` (the sender of a
 * Dispatch): the AP certificate the entry pins, exactly. Without a pin (or without an entry), only when the
 * operator allows unpinned peers (`pki.unpinnedPeers`), and then only a certificate with the role of an AP's
 * signing certificate (pki/certificate-roles.ts) that is not this AP's own seal. Threat: any holder of a
 * certificate under a trusted CA (a recipient's encryption key, the TSA's, a TLS key, our own seal replayed)
 * injecting messages under another sender's name. Refusals are EBMS:0101 (FailedAuthentication).
 */
export function requirePeerAp(
  participant: string,
  entry: { readonly apCertificatePem?: string } | undefined,
  signer: X509Certificate,
  rules: PeerApRules,
): void {
  const refuse = (why: string): never => {
    throw new QerdsError('AS4_EBMS_0101', `the signer ${signer.subject.replace(/\n/g, ', ')} ${why}`);
  };
  if (entry?.apCertificatePem) {
    if (certificateFrom(entry.apCertificatePem).fingerprint256 !== signer.fingerprint256)
      refuse(`is not the access point the directory names for ${participant}`);
    return;
  }
  if (!rules.unpinned)
    refuse(
      `cannot be checked: the directory pins no access point certificate for ${participant} (pki.unpinnedPeers is off)`,
    );
  if (rules.ownFingerprints.includes(signer.fingerprint256)) refuse('is this access point itself');
  const role = checkCertificateRole(signer, 'as4-signer');
  if (role.length > 0)
    refuse(`is not an access point's signing certificate: ${role.map((f) => f.message).join('; ')}`);
}

/**
 * Before sending to a peer AP: the certificate its receipt must be signed with is the one the directory pins;
 * a peer without one is reached only with `pki.unpinnedPeers` (its receipt is then judged by the trust store
 * and the AS4 signer role, src/as4/security/ws-security-verify.ts). Not retryable: the directory must change.
 */
export function requirePinnedPeer(
  endpoint: string,
  apCertificatePem: string | undefined,
  rules: PeerApRules,
): void {
  if (apCertificatePem || rules.unpinned) return;
  throw new QerdsError(
    'AS4_PEER_NOT_PINNED',
    `the directory pins no access point certificate for ${endpoint}, and pki.unpinnedPeers is off`,
    { details: { retryable: false } },
  );
}
