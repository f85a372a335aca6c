import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createAccessPoint, type AccessPoint } from '../access-point.js';
import { loadConfig, type QerdsConfigInput } from '../config/index.js';
import { devApId, devPkiLayout, type DevPkiLayout } from '../pki/index.js';

/** The demo's participants: a Japanese supplier (C1) and its customer (C4), by corporate number (scheme 0188). */
export const SENDER = {
  id: '0188:1234567890123',
  name: '株式会社サンプル商事 (Sample Trading Co., Ltd.)',
  key: 'demo-sender-key-0123456789abcdef',
};
export const RECIPIENT = {
  id: '0188:9876543210987',
  name: '合同会社テスト製作所 (Test Works LLC)',
  key: 'demo-recipient-key-0123456789abcd',
};

export interface TwoAccessPoints {
  readonly c2: AccessPoint;
  readonly c3: AccessPoint;
  stop(): Promise<void>;
}

/**
 * Two access points on loopback that know each other through a static directory: C2 serves the sender,
 * C3 the recipient. Used by the demo, the benchmark and the integration tests.
 */
export async function startTwoAccessPoints(options: {
  outDir: string;
  pkiDir: string;
  /** Extra settings for both APs (e.g. store kind), or per AP (e.g. a PostgreSQL schema and queue prefix each). */
  overrides?: QerdsConfigInput | ((name: 'c2' | 'c3') => QerdsConfigInput);
  logLevel?: string;
  /** A logger per AP (e.g. to capture one AP's log). @defaultValue one pino logger at `logLevel` for both */
  logger?: (name: 'c2' | 'c3') => Logger | undefined;
  /**
   * PEM file of the recipient's (C4's) encryption certificate, named in the directory of both APs: C2
   * then encrypts submitted content for it end to end. @defaultValue none (no end-to-end encryption)
   */
  recipientEncryptionCertificate?: string;
  /**
   * The AS4 endpoint the directory names for an AP, given its real one: e.g. a capturing proxy in front of
   * it. @defaultValue the AP's own `/as4` URL
   */
  as4Endpoint?: (name: 'c2' | 'c3', endpoint: string) => string | Promise<string>;
  /**
   * Serve HTTPS with each AP's dev PKI TLS certificate, and pin it in the directory (`apTlsCertificate`).
   * `clientCerts`: whether an AP asks clients for a certificate from the dev CA (`request`) or refuses those
   * without one in the handshake (`require`). `pinnedCertificate`: the PEM file pinned for an AP instead of
   * its own. @defaultValue none (plain HTTP)
   */
  tls?: {
    clientCerts?: (name: 'c2' | 'c3') => 'none' | 'request' | 'require';
    pinnedCertificate?: (name: 'c2' | 'c3') => string;
  };
  /**
   * More directory entries, reached through C2 or C3. Without `account` they have no account there (for refusal
   * tests); with it they are local participants of the AP that serves them, with that API key and consignment
   * policy (`acceptance`, `consignment`, `notificationUrl`, `acceptanceWindowSeconds` of an `accounts[]` entry).
   */
  extraParticipants?: readonly {
    id: string;
    name: string;
    servedBy: 'c2' | 'c3';
    /** The endpoint the directory names for it instead of its AP's (e.g. a sink that captures what is relayed to it). */
    endpoint?: string;
    /** PEM file of the AP e-seal certificate the directory pins for it instead of its AP's (for refusal tests). */
    apCertificate?: string;
    /** PEM file of the AS4 encryption certificate the directory names for its AP instead of its AP's (an AP outside this pair). */
    apEncryptionCertificate?: string;
    /** PEM file of a TLS certificate the directory pins for its AP (`apTlsCertificate`), with or without `tls`. */
    apTlsCertificate?: string;
    account?: { readonly key: string } & Omit<AccountInput, 'participant' | 'name' | 'credentials'>;
    /** How its AP is reached (`transportProfile` of the entry: Peppol or the ERDS service). @defaultValue by `as4.profile` */
    transportProfile?: string;
    /** APs whose static directory leaves it out (e.g. C2 finds it by SML/SMP, `overrides.directory`). @defaultValue none */
    unlistedAt?: readonly ('c2' | 'c3')[];
  }[];
  /** Environment of the APs (remote e-seal PINs). @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * `as4.profile` of both APs: `edelivery-2.0` signs AS4 with each AP's Ed25519 certificate and encrypts for its
   * X25519 one (the dev PKI's `edelivery2` pair), which the directory then pins and publishes. @defaultValue the
   * configuration's (`edelivery-1.15` unless `overrides` set it)
   */
  as4Profile?: 'edelivery-1.15' | 'edelivery-2.0';
}): Promise<TwoAccessPoints> {
  // Port 0 cannot do here: each AP's static directory names both APs' endpoints, its own too, before either
  // listens. So each port is held by a placeholder listener from now until its AP binds it (released just
  // before start), not picked and let go while the APs are built (seconds, in which another process's
  // listen(0) or outgoing connection could take it).
  const reserved = await Promise.all([reservePort(), reservePort()]);
  const [c2Port, c3Port] = reserved.map((r) => r.port) as [number, number];
  const endpoint = (name: 'c2' | 'c3', port: number) => {
    const own = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/as4`;
    return options.as4Endpoint ? options.as4Endpoint(name, own) : own;
  };
  // Each AP's AS4 encryption certificate (dev PKI) in the directory: the peer encrypts AS4 payloads for it.
  // Each AP's e-seal is pinned too: only C2 may speak for the sender, only C3 may sign its receipts.
  const dev = devPkiLayout(options.pkiDir);
  const v2 = options.as4Profile === 'edelivery-2.0';
  const encryptionCert = (name: 'c2' | 'c3') => (v2 ? dev.edelivery2(name).encCert : dev.ap(name).encCert);
  const sealCert = (name: 'c2' | 'c3') => dev.ap(name).sealCert;
  // On eDelivery AS4 2.0 an AP signs AS4 with its Ed25519 certificate, and an AP of an EC dev PKI on 1.15 with its RSA
  // AS4 signing certificate: that is its pin for AS4, the e-seal the pin of its evidence (apSealCertificate).
  // Otherwise the e-seal is both.
  const as4SigningCert = (name: 'c2' | 'c3') =>
    v2
      ? dev.edelivery2(name).signCert
      : existsSync(dev.as4Signing(name).cert)
        ? dev.as4Signing(name).cert
        : undefined;
  const apPins = (name: 'c2' | 'c3') => {
    const as4 = as4SigningCert(name);
    return as4
      ? { apCertificate: as4, apSealCertificate: sealCert(name) }
      : { apCertificate: sealCert(name) };
  };
  const tlsPin = (name: 'c2' | 'c3') =>
    options.tls ? { apTlsCertificate: options.tls.pinnedCertificate?.(name) ?? dev.ap(name).tlsCert } : {};
  const participants = [
    {
      id: SENDER.id,
      name: SENDER.name,
      endpoint: await endpoint('c2', c2Port),
      ...apPins('c2'),
      apEncryptionCertificate: encryptionCert('c2'),
      ...tlsPin('c2'),
    },
    {
      id: RECIPIENT.id,
      name: RECIPIENT.name,
      endpoint: await endpoint('c3', c3Port),
      ...apPins('c3'),
      apEncryptionCertificate: encryptionCert('c3'),
      encryptionCertificate: options.recipientEncryptionCertificate,
      ...tlsPin('c3'),
    },
  ];
  const unlisted = new Map<string, readonly ('c2' | 'c3')[]>();
  for (const extra of options.extraParticipants ?? []) {
    const port = extra.servedBy === 'c2' ? c2Port : c3Port;
    if (extra.unlistedAt) unlisted.set(extra.id, extra.unlistedAt);
    participants.push({
      id: extra.id,
      name: extra.name,
      endpoint: extra.endpoint ?? (await endpoint(extra.servedBy, port)),
      ...(extra.apCertificate ? { apCertificate: extra.apCertificate } : apPins(extra.servedBy)),
      apEncryptionCertificate: extra.apEncryptionCertificate ?? encryptionCert(extra.servedBy),
      encryptionCertificate: undefined,
      ...tlsPin(extra.servedBy),
      ...(extra.apTlsCertificate ? { apTlsCertificate: extra.apTlsCertificate } : {}),
      ...(extra.transportProfile ? { transportProfile: extra.transportProfile } : {}),
    });
  }
  const logger = pino({ level: options.logLevel ?? 'warn' });
  const make = (name: 'c2' | 'c3', port: number, account: typeof SENDER) => {
    const overrides = typeof options.overrides === 'function' ? options.overrides(name) : options.overrides;
    return createAccessPoint(
      loadConfig({
        env: {},
        baseDir: process.cwd(),
        overrides: {
          ...overrides,
          ap: { name: `qerds-ap demo ${name.toUpperCase()}`, id: devApId(name) },
          ...(options.as4Profile ? { as4: { ...overrides?.as4, profile: options.as4Profile } } : {}),
          http: {
            port,
            ...(options.tls ? { tls: devTls(dev, name, options.tls.clientCerts?.(name) ?? 'none') } : {}),
          },
          store: {
            ...overrides?.store,
            sqliteFile: join(options.outDir, name, 'qerds.sqlite'),
            blobDir: join(options.outDir, name, 'blobs'),
          },
          pki: { ...overrides?.pki, dir: options.pkiDir, apName: name },
          queue: { pollIntervalMs: 50, ...overrides?.queue },
          relay: { baseDelayMs: 200, maxDelayMs: 2000, ...overrides?.relay },
          // Short back-offs on loopback; the webhooks' follow the relay's unless set (the production budgets are hours).
          webhooks: {
            baseDelayMs: 200,
            maxDelayMs: 2000,
            ...retryOf(overrides?.relay),
            ...overrides?.webhooks,
          },
          // `overrides.directory` (e.g. kind smp) around the static participants this AP lists.
          directory: {
            ...overrides?.directory,
            participants: participants.filter((p) => !unlisted.get(p.id)?.includes(name)),
          },
          accounts: [
            apiKeyAccount(account.key, { participant: account.id, name: account.name }),
            ...(options.extraParticipants ?? []).flatMap((extra) => {
              if (extra.servedBy !== name || !extra.account) return [];
              const { key, ...settings } = extra.account;
              return [apiKeyAccount(key, { ...settings, participant: extra.id, name: extra.name })];
            }),
            // The caller's own accounts (TOTP, OAuth2, remote seals …) come after the harness's participants.
            ...(overrides?.accounts ?? []),
          ],
        },
      }),
      { logger: options.logger?.(name) ?? logger, ...(options.env ? { env: options.env } : {}) },
    );
  };
  let c2: AccessPoint | undefined;
  let c3: AccessPoint | undefined;
  try {
    c2 = await make('c2', c2Port, SENDER);
    c3 = await make('c3', c3Port, RECIPIENT);
  } finally {
    await Promise.all(reserved.map((r) => r.release()));
  }
  await Promise.all([c2.start(), c3.start()]);
  return {
    c2,
    c3,
    stop: async () => {
      await Promise.allSettled([c2.stop(), c3.stop()]);
    },
  };
}

/** The retry fields of a `relay` override (attempts and back-off), for the webhooks to follow. */
function retryOf(relay: QerdsConfigInput['relay']): QerdsConfigInput['webhooks'] {
  if (!relay) return {};
  const { maxAttempts, baseDelayMs, maxDelayMs } = relay;
  return {
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(baseDelayMs === undefined ? {} : { baseDelayMs }),
    ...(maxDelayMs === undefined ? {} : { maxDelayMs }),
  };
}

/** `http.tls` of an AP with its dev PKI TLS certificate; client certificates from the dev CA. */
function devTls(dev: DevPkiLayout, name: 'c2' | 'c3', clientCerts: 'none' | 'request' | 'require') {
  return {
    cert: dev.ap(name).tlsCert,
    key: dev.ap(name).tlsKey,
    clientCa: dev.caCert,
    requestClientCert: clientCerts !== 'none',
    requireClientCert: clientCerts === 'require',
  };
}

/** GET/POST a JSON resource of the REST API with an API key; throws with the problem on error. */
export async function api<T = Record<string, unknown>>(
  base: string,
  key: string,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const response = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as T;
  if (!response.ok)
    throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

export async function apiText(base: string, key: string, path: string): Promise<string> {
  const response = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return response.text();
}

/** A loopback port the kernel chose, held by a listener of ours until `release()` (which resolves once closed). */
async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolveListening, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListening());
  });
  return {
    port: (server.address() as AddressInfo).port,
    release: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}

type AccountInput = NonNullable<QerdsConfigInput['accounts']>[number];

/** An `accounts[]` entry (IAL 1) whose one credential is the API key `key`, held by its SHA-256 as the config wants. */
export function apiKeyAccount(key: string, settings: Omit<AccountInput, 'credentials'>): AccountInput {
  return {
    ...settings,
    credentials: [{ kind: 'apiKey', keySha256: createHash('sha256').update(key).digest('hex') }],
  };
}
