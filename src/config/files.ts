import { existsSync } from 'node:fs';
import { QerdsError } from '../core/index.js';
import { devPkiLayout } from '../pki/layout.js';
import type { AlgorithmSet } from '../as4/index.js';
import type { FoldedConfig } from './legacy-api-keys.js';

/** `as4.profile` of eDelivery AS4 2.0 (src/profiles/edelivery.ts), whose dev PKI keys are Ed25519 and X25519. */
const EDELIVERY_2: AlgorithmSet = 'edelivery-2.0';

/** A file the access point reads, after defaults: where it is, and the setting that put it there. */
export interface ConfiguredFile {
  readonly path: string;
  /**
   * The config key the path came from, as an operator should read it in an error: `tsa.cert` when set,
   * `pki.dir (dev PKI tsa/tsa.crt.pem; set tsa.cert for another file)` for a default under the dev PKI.
   */
  readonly setting: string;
}

export interface ConfiguredKeyPair {
  readonly cert: ConfiguredFile;
  readonly key: ConfiguredFile;
}

/**
 * Every key, certificate and trust file the access point reads, with the dev PKI (`pki.dir`, `pki.apName`)
 * filling in what the configuration leaves out. Resolved once by loadConfig, so that no binding derives a
 * dev PKI path of its own (and no two of them can disagree about where the e-seal lives).
 */
export interface ConfigFiles {
  /** The e-seal: `pki.sealCert` / `pki.sealKey`, else the dev PKI's `<apName>/seal.*.pem`. */
  readonly seal: ConfiguredKeyPair;
  /** Trust anchors and CRLs (files or directories): `pki.trust`, else the dev PKI's CA certificate and CRL. */
  readonly trust: readonly ConfiguredFile[];
  /** The embedded TSA (tsa.mode embedded): `tsa.cert` / `tsa.key`, else the dev PKI's `tsa/tsa.*.pem`. */
  readonly tsa: ConfiguredKeyPair;
  /**
   * The key peers encrypt AS4 payloads for: `as4.encryptionCert` / `as4.encryptionKey`, else the dev PKI's
   * `<apName>/enc.*.pem` (RSA), or on `as4.profile: edelivery-2.0` its `<apName>/enc-x25519.*.pem`.
   */
  readonly as4Encryption: ConfiguredKeyPair;
  /**
   * The key this AP signs AS4 messages and receipts with: `as4.signingCert` / `as4.signingKey` (both), else the
   * dev PKI's `<apName>/as4-sign.*.pem` (on `as4.profile: edelivery-2.0`: `<apName>/as4-ed25519.*.pem`) — only when
   * both files exist (`optional`; `qerds pki init --key ec` makes the first, every `qerds pki init` the second) —
   * else the e-seal (`seal`).
   */
  readonly as4Signing: ConfiguredKeyPair & { readonly optional: boolean };
  /** TLS of the SMTP intake and inbound listeners: `smtp.tlsCert` / `smtp.tlsKey`, else the dev PKI's `<apName>/tls.*.pem`. */
  readonly smtpTls: ConfiguredKeyPair;
  /** TLS of the REM relay listener: `smtp.relay.tlsCert` / `tlsKey`, else `smtpTls`. */
  readonly smtpRelayTls: ConfiguredKeyPair;
  /**
   * The client certificate the AS4 client presents to peers: `as4.tls.clientCert` / `clientKey` (both), else
   * `http.tls`, else the dev PKI's `<apName>/tls.*.pem` — that last one only when both files exist (`optional`):
   * an AP without a dev TLS pair simply presents no client certificate.
   */
  readonly as4TlsClient: ConfiguredKeyPair & { readonly optional: boolean };
}

/** The files of `config` after the dev PKI defaults (see ConfigFiles). Paths are taken as they are (loadConfig made them absolute). */
export function resolveConfigFiles(config: FoldedConfig): ConfigFiles {
  const { dir, apName } = config.pki;
  const dev = devPkiLayout(dir);
  const ap = dev.ap(apName);
  const file = (
    setting: string,
    explicit: string | undefined,
    devPath: string,
    devName: string,
  ): ConfiguredFile =>
    explicit === undefined
      ? { path: devPath, setting: `pki.dir (dev PKI ${devName}; set ${setting} for another file)` }
      : { path: explicit, setting };
  const pair = (cert: ConfiguredFile, key: ConfiguredFile): ConfiguredKeyPair => ({ cert, key });
  const smtpTls = pair(
    file('smtp.tlsCert', config.smtp.tlsCert, ap.tlsCert, `${apName}/tls.crt.pem`),
    file('smtp.tlsKey', config.smtp.tlsKey, ap.tlsKey, `${apName}/tls.key.pem`),
  );
  const relay = config.smtp.relay;
  const as4Tls = config.as4.tls;
  const as4TlsClient =
    as4Tls.clientCert && as4Tls.clientKey
      ? {
          ...pair(
            { path: as4Tls.clientCert, setting: 'as4.tls.clientCert' },
            { path: as4Tls.clientKey, setting: 'as4.tls.clientKey' },
          ),
          optional: false,
        }
      : config.http.tls
        ? {
            ...pair(
              { path: config.http.tls.cert, setting: 'http.tls.cert' },
              { path: config.http.tls.key, setting: 'http.tls.key' },
            ),
            optional: false,
          }
        : {
            ...pair(
              file('as4.tls.clientCert', undefined, ap.tlsCert, `${apName}/tls.crt.pem`),
              file('as4.tls.clientKey', undefined, ap.tlsKey, `${apName}/tls.key.pem`),
            ),
            optional: true,
          };
  // eDelivery AS4 2.0 signs with Ed25519 and encrypts for X25519: the dev PKI's pair of that profile.
  const v2 = config.as4.profile === EDELIVERY_2 ? dev.edelivery2(apName) : undefined;
  const as4Sign = v2
    ? { cert: v2.signCert, key: v2.signKey, name: 'as4-ed25519' }
    : { ...dev.as4Signing(apName), name: 'as4-sign' };
  const as4Enc = v2
    ? { cert: v2.encCert, key: v2.encKey, name: 'enc-x25519' }
    : { cert: ap.encCert, key: ap.encKey, name: 'enc' };
  const as4Signing =
    config.as4.signingCert !== undefined || config.as4.signingKey !== undefined
      ? {
          ...pair(
            file('as4.signingCert', config.as4.signingCert, '', ''),
            file('as4.signingKey', config.as4.signingKey, '', ''),
          ),
          optional: false,
        }
      : {
          ...pair(
            file('as4.signingCert', undefined, as4Sign.cert, `${apName}/${as4Sign.name}.crt.pem`),
            file('as4.signingKey', undefined, as4Sign.key, `${apName}/${as4Sign.name}.key.pem`),
          ),
          optional: true,
        };
  return {
    as4Signing,
    seal: pair(
      file('pki.sealCert', config.pki.sealCert, ap.sealCert, `ap/${apName} e-seal certificate`),
      file('pki.sealKey', config.pki.sealKey, ap.sealKey, `ap/${apName} e-seal key`),
    ),
    trust: config.pki.trust
      ? config.pki.trust.map((path) => ({ path, setting: 'pki.trust' }))
      : [dev.caCert, dev.caCrl].map((path) => file('pki.trust', undefined, path, 'CA certificate and CRL')),
    tsa: pair(
      file('tsa.cert', config.tsa.cert, dev.tsaCert, 'tsa/tsa.crt.pem'),
      file('tsa.key', config.tsa.key, dev.tsaKey, 'tsa/tsa.key.pem'),
    ),
    as4Encryption: pair(
      file('as4.encryptionCert', config.as4.encryptionCert, as4Enc.cert, `${apName}/${as4Enc.name}.crt.pem`),
      file('as4.encryptionKey', config.as4.encryptionKey, as4Enc.key, `${apName}/${as4Enc.name}.key.pem`),
    ),
    smtpTls,
    smtpRelayTls: pair(
      relay?.tlsCert === undefined ? smtpTls.cert : { path: relay.tlsCert, setting: 'smtp.relay.tlsCert' },
      relay?.tlsKey === undefined ? smtpTls.key : { path: relay.tlsKey, setting: 'smtp.relay.tlsKey' },
    ),
    as4TlsClient,
  };
}

/**
 * The path of a file the configuration names, checked before it is read: when it is missing the operator
 * gets CONFIG_INVALID naming the setting and the path (one line, exit code 2), not an ENOENT stack trace
 * from deep inside the loader.
 */
export function configuredFile(file: ConfiguredFile, hint?: string): string {
  if (!existsSync(file.path))
    throw new QerdsError(
      'CONFIG_INVALID',
      `${file.setting}: ${file.path} not found${hint ? ` (${hint})` : ''}`,
    );
  return file.path;
}
