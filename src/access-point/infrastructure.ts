import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type As4TlsClient,
  createCrlSet,
  createTrustStore,
  loadSigningIdentity,
  readTrustMaterial,
  type CrlSet,
  type Pkcs11Signer,
  type SigningIdentity,
  type TrustStore,
} from '../pki/index.js';
import { configuredFile, type QerdsConfig } from '../config/index.js';
import { QerdsError, type Clock, type TsaClient } from '../core/index.js';
import { peppolApAnchorFiles, peppolAs4Profile } from '../peppol/index.js';
import { createStore, type Store } from '../store/index.js';
import {
  createFailoverTsaClient,
  createHttpTsaClient,
  createLocalTsaClient,
  createTimestampAuthority,
  type TimestampAuthority,
} from '../timestamp/index.js';
import {
  createLiveTrustLists,
  loadConfiguredTrustLists,
  requireListedService,
  type LiveTrustLists,
} from '../trust-list/index.js';
import { loadAs4Security, type As4Security } from './as4-security.js';
import { loadAs4TlsClient } from './as4-tls.js';
import { openRemoteSealSigners } from './remote-seal-binding.js';
import { checkSealNamesAp } from './seal-names-ap.js';
import type { PeppolPeerPolicy } from './peppol-peer-check.js';

/**
 * The keys, trust and time source of one access point, loaded from `config.files` before anything is
 * wired: every configuration mistake about a file, a key type or a trusted list stops the AP here, before
 * the store is opened (and its lock taken).
 */
export interface KeysAndTrust {
  /** This AP's e-seal: it seals evidence and signs REM messages, and AS4 unless `as4.signing` is another key. */
  readonly identity: SigningIdentity;
  /**
   * The trust anchors and their CRLs. The CRLs are a live set (`pki.crlRefresh` replaces them while the AP
   * runs): everything reads `trust.crls` at each use (sealer, archive renewal, TLS client), never a copy.
   */
  readonly trust: TrustStore;
  readonly crls: CrlSet;
  /** The files of `trust`, read again by the CRL refresh. */
  readonly trustFiles: readonly string[];
  /** The configured trusted lists, kept live; undefined when `pki.trustLists` is empty. */
  readonly trustLists?: LiveTrustLists;
  /**
   * What evidence seals are judged by: the anchors of `pki.trust` alone (with the CRLs of `crls`), without the Peppol
   * AP CAs of `pki.peppolAnchors`, which certify AS4 peers, not QERDS. `trust` itself when there are none.
   */
  readonly sealTrust: TrustStore;
  /** Who may speak as a peer AP: `trust`, narrowed to listed QERDS with `pki.listedPeersOnly`. */
  readonly peerTrust: TrustStore;
  /** P-Modes, the AS4 encryption key, compression: the same for what is sent and what /as4 accepts. */
  readonly as4: As4Security;
  /** The HTTPS client between APs (client certificate, anchors, per-peer pins). */
  readonly as4Tls: As4TlsClient;
  /**
   * On the Peppol AS4 profile with `pki.peppolAnchors`: the AP CAs of the network alone as anchors (with the CRLs
   * of `crls`, kept live), which every AS4 peer (signer of a message or of a receipt) must chain to
   * (access-point/peppol-peer-check.ts). Undefined otherwise.
   */
  readonly peppolPeers?: PeppolPeerPolicy;
  /** Senders' remote e-seals by participant, logged in (empty in a process that takes no submissions). */
  readonly remoteSeals: ReadonlyMap<string, Pkcs11Signer>;
  /** The embedded TSA (tsa.mode embedded), also served at /tsa with `tsa.serve`. */
  readonly tsa?: TimestampAuthority;
  /** Where timestamps come from: the embedded TSA, or the remote one(s) with fail-over. */
  readonly tsaClient: TsaClient;
  /**
   * The CA certificates of the e-seal's and the TSA's paths (leaves excluded), once each: the
   * CertificateValues of B-LT seals and of renewed archive timestamps.
   */
  readonly validationCertificates: readonly X509Certificate[];
  /** The e-seal, AS4 signing (Peppol and ERDS) and TSA certificates: whose CRL Distribution Points the CRL refresh fetches (with the anchors'). */
  readonly ownCertificates: readonly X509Certificate[];
  /** Logs out of the remote e-seal tokens and closes the TLS client's connections. */
  close(): void;
}

export interface KeysAndTrustOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Whether this process takes submissions (REST, SMTP): only then are senders' remote e-seals opened. */
  readonly takesSubmissions: boolean;
  /** Where the PINs of senders' remote e-seals are read. */
  readonly env: NodeJS.ProcessEnv;
}

export async function loadKeysAndTrust(
  config: QerdsConfig,
  options: KeysAndTrustOptions,
): Promise<KeysAndTrust> {
  const { files } = config;
  const identity = loadSigningIdentity(
    configuredFile(files.seal.cert, 'run `qerds pki init` for a dev PKI'),
    configuredFile(files.seal.key),
  );
  checkSealNamesAp(identity.certificate, config.ap.id, options.log);
  // The Peppol network's AP CAs (pki.peppolAnchors) are anchors beside pki.trust.
  const anchors = config.pki.peppolAnchors;
  const peppolFiles = anchors
    ? peppolApAnchorFiles({
        network: anchors.network,
        generations: anchors.generations,
        ...(anchors.dir ? { dir: anchors.dir } : {}),
      })
    : [];
  const trustFiles = [
    ...files.trust,
    ...peppolFiles.map((path) => ({ path, setting: 'pki.peppolAnchors' })),
  ].map((file) => configuredFile(file));
  const trustMaterial = readTrustMaterial(trustFiles);
  const crls = createCrlSet(trustMaterial.crls, trustMaterial.anchors);
  const trust = createTrustStore(trustMaterial.anchors, { crls });
  // Threat: a Peppol AP certificate (a TLS/AS4 certificate of OpenPeppol's AP CA) passing for a QERDS's e-seal.
  const sealTrust =
    peppolFiles.length > 0
      ? createTrustStore(readTrustMaterial(trustFiles.slice(0, files.trust.length)).anchors, { crls })
      : trust;
  const as4 = loadAs4Security(config, identity);
  // Threat: a certificate under another anchor of pki.trust (the Peppol root's SMP CA, a QTSP of the seals)
  // passing for a Peppol AP: peers are judged by the AP CAs alone. The CRLs are the live set shared with `trust`.
  const peppolPeers: PeppolPeerPolicy | undefined =
    anchors && as4.profile === peppolAs4Profile.id
      ? {
          network: anchors.network,
          trust: createTrustStore(readTrustMaterial(peppolFiles).anchors, { crls }),
        }
      : undefined;

  const loadedLists = await loadConfiguredTrustLists(config.pki.trustLists, options.clock.now());
  const trustLists =
    loadedLists.length > 0 ? createLiveTrustLists(config.pki.trustLists, loadedLists) : undefined;
  if (config.pki.listedPeersOnly && !trustLists)
    throw new QerdsError('CONFIG_INVALID', 'pki.listedPeersOnly needs at least one pki.trustLists entry');
  const peerTrust =
    config.pki.listedPeersOnly && trustLists ? requireListedService(trust, trustLists.view, 'QERDS') : trust;

  // Opened (logged in) now, so that a wrong PIN stops the AP here, not a submission later.
  const remoteSeals = options.takesSubmissions
    ? await openRemoteSealSigners(config.accounts, options.env)
    : new Map<string, Pkcs11Signer>();
  const as4Tls = loadAs4TlsClient(config, trust);

  const tsa =
    config.tsa.mode === 'embedded'
      ? createTimestampAuthority({
          identity: loadSigningIdentity(configuredFile(files.tsa.cert), configuredFile(files.tsa.key)),
          policyOid: config.tsa.policyOid,
          clock: options.clock,
        })
      : undefined;
  const tsaClient = tsa ? createLocalTsaClient(tsa) : remoteTsaClient(config.tsa, trust, options.log);
  const ownCertificates = [
    identity.certificate,
    ...(as4.signing === identity ? [] : [as4.signing.certificate]),
    ...(as4.erds.signing === identity || as4.erds.signing === as4.signing
      ? []
      : [as4.erds.signing.certificate]),
    ...(tsa ? [tsa.certificate] : []),
  ];

  return {
    identity,
    trust,
    sealTrust,
    crls,
    trustFiles,
    ...(trustLists ? { trustLists } : {}),
    peerTrust,
    as4,
    as4Tls,
    ...(peppolPeers ? { peppolPeers } : {}),
    remoteSeals,
    ...(tsa ? { tsa } : {}),
    tsaClient,
    validationCertificates: caCertificatesOf(trust, ownCertificates),
    ownCertificates,
    close() {
      as4Tls.close();
      for (const signer of remoteSeals.values()) signer.close();
    },
  };
}

/** The store of `config.store`, its schema migrated. It is held by this process until closed (SQLite: an OS lock). */
export async function openConfiguredStore(config: QerdsConfig, clock: Clock): Promise<Store> {
  const store = await createStore({
    ...config.store,
    clock,
    retentionYears: config.retention.years,
    exclusive: true,
  });
  await store.migrate();
  return store;
}

/** The remote TSA (tsa.mode remote): `tsa.urls` in order with fail-over, else the one `tsa.url`. */
function remoteTsaClient(settings: QerdsConfig['tsa'], trust: TrustStore, log: Logger): TsaClient {
  if (settings.urls) {
    return createFailoverTsaClient(
      settings.urls.map((url) => createHttpTsaClient({ url, timeoutMs: settings.timeoutMs, trust })),
      { names: settings.urls, cooldownMs: settings.cooldownMs, log },
    );
  }
  if (settings.url === undefined) throw new QerdsError('CONFIG_INVALID', 'tsa.url is required');
  return createHttpTsaClient({ url: settings.url, timeoutMs: settings.timeoutMs, trust });
}

/** The CA certificates of the given leaves' paths (leaves excluded), once each. */
function caCertificatesOf(trust: TrustStore, leaves: readonly X509Certificate[]): X509Certificate[] {
  const byPrint = new Map<string, X509Certificate>();
  for (const leaf of leaves)
    for (const cert of trust.validate(leaf).path.slice(1)) byPrint.set(cert.fingerprint256, cert);
  return [...byPrint.values()];
}
