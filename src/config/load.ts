import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { QerdsError } from '../core/index.js';
import { resolveConfigFiles, type ConfigFiles } from './files.js';
import { foldLegacyApiKeys, type FoldedConfig } from './legacy-api-keys.js';
import { configSchema, type QerdsConfigInput } from './schema.js';

/**
 * The configuration an access point runs with: the schema's values with every relative path made absolute,
 * and `files`, every key, certificate and trust file it reads after the dev PKI defaults. Only loadConfig
 * makes one (`files` is no key of the schema, so a config input can never carry it).
 */
export type QerdsConfig = FoldedConfig & {
  readonly files: ConfigFiles;
  /** What the configuration uses that is deprecated (the legacy `apiKeys[]`), for the AP to log at start. */
  readonly deprecations: readonly string[];
};

/** Shortcut variables for the settings operators change most; the general form is QERDS__SECTION__KEY. */
const shortcuts: Readonly<Record<string, readonly string[]>> = {
  QERDS_STORE: ['store', 'kind'],
  QERDS_QUEUE: ['queue', 'kind'],
  QERDS_PORT: ['http', 'port'],
  QERDS_POSTGRES_URL: ['store', 'postgresUrl'],
  QERDS_LOG_LEVEL: ['log', 'level'],
};

export interface LoadConfigOptions {
  /** YAML file; when absent, defaults (plus env) are used. */
  file?: string;
  /** Environment to read overrides from. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Values that win over file and env (CLI flags, tests). */
  overrides?: QerdsConfigInput;
  /** Base directory for relative paths when there is no file. @defaultValue process.cwd() */
  baseDir?: string;
}

/**
 * Load and validate the configuration: defaults < YAML file < environment < overrides.
 * A bad value fails with CONFIG_INVALID naming the key (`http.port: …`).
 */
export function loadConfig(options: LoadConfigOptions = {}): QerdsConfig {
  const env = options.env ?? process.env;
  let fromFile: unknown = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (cause) {
      throw new QerdsError('CONFIG_INVALID', `config file ${options.file} cannot be read`, { cause });
    }
    try {
      fromFile = parseYaml(text) ?? {};
    } catch (cause) {
      throw new QerdsError(
        'CONFIG_INVALID',
        `config file ${options.file} is not valid YAML: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  const merged = deepMerge(deepMerge(fromFile, envOverrides(env)), options.overrides ?? {});
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new QerdsError('CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, {
      details: { issues: z.treeifyError(parsed.error) },
    });
  }
  const baseDir = options.file ? dirname(resolve(options.file)) : (options.baseDir ?? process.cwd());
  const { config: folded, deprecations } = foldLegacyApiKeys(parsed.data);
  const resolved = resolvePaths(folded, baseDir);
  return Object.freeze({ ...resolved, files: resolveConfigFiles(resolved), deprecations });
}

/** QERDS__HTTP__PORT=8081 → { http: { port: '8081' } }; keys match the schema case-insensitively. */
function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const path =
      shortcuts[name] ?? (name.startsWith('QERDS__') ? schemaPath(name.slice(7).split('__')) : undefined);
    if (path) setPath(out, path, value);
  }
  return out;
}

function schemaPath(segments: string[]): string[] | undefined {
  const path: string[] = [];
  let shape: Record<string, z.ZodType> | undefined = configSchema.shape as Record<string, z.ZodType>;
  for (const segment of segments) {
    if (!shape) return undefined;
    const key = Object.keys(shape).find((k) => k.toLowerCase() === segment.toLowerCase().replace(/_/g, ''));
    if (!key) throw new QerdsError('CONFIG_INVALID', `environment variable names unknown key "${segment}"`);
    path.push(key);
    shape = objectShape(shape[key]);
  }
  return path;
}

function objectShape(type: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  let t: unknown = type;
  // Unwrap default/prefault/optional wrappers to reach the object.
  for (let i = 0; i < 5 && t; i++) {
    if (t instanceof z.ZodObject) return t.shape as Record<string, z.ZodType>;
    t = (t as { def?: { innerType?: unknown } }).def?.innerType;
  }
  return undefined;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    node[key] = (node[key] as Record<string, unknown> | undefined) ?? {};
    node = node[key] as Record<string, unknown>;
  });
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value === 'true' ? true : value === 'false' ? false : value;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolvePaths(config: FoldedConfig, baseDir: string): FoldedConfig {
  const abs = (p: string) => (p === ':memory:' || isAbsolute(p) ? p : resolve(baseDir, p));
  const absOpt = (p: string | undefined) => (p === undefined ? undefined : abs(p));
  return {
    ...config,
    store: { ...config.store, sqliteFile: abs(config.store.sqliteFile), blobDir: abs(config.store.blobDir) },
    http: config.http.tls
      ? {
          ...config.http,
          tls: {
            ...config.http.tls,
            cert: abs(config.http.tls.cert),
            key: abs(config.http.tls.key),
            clientCa: absOpt(config.http.tls.clientCa),
          },
        }
      : config.http,
    pki: {
      ...config.pki,
      dir: abs(config.pki.dir),
      sealCert: absOpt(config.pki.sealCert),
      sealKey: absOpt(config.pki.sealKey),
      trust: config.pki.trust?.map(abs),
      ...(config.pki.peppolAnchors
        ? { peppolAnchors: { ...config.pki.peppolAnchors, dir: absOpt(config.pki.peppolAnchors.dir) } }
        : {}),
      trustLists: config.pki.trustLists.map((l) => ({
        ...l,
        path: abs(l.path),
        signerAnchors: l.signerAnchors.map(abs),
      })),
    },
    tsa: { ...config.tsa, cert: absOpt(config.tsa.cert), key: absOpt(config.tsa.key) },
    directory: {
      ...config.directory,
      ...(config.directory.smp
        ? { smp: { ...config.directory.smp, trust: config.directory.smp.trust?.map(abs) } }
        : {}),
      participants: config.directory.participants.map((p) => ({
        ...p,
        apCertificate: absOpt(p.apCertificate),
        apSealCertificate: absOpt(p.apSealCertificate),
        apEncryptionCertificate: absOpt(p.apEncryptionCertificate),
        encryptionCertificate: absOpt(p.encryptionCertificate),
        apTlsCertificate: absOpt(p.apTlsCertificate),
      })),
    },
    as4: {
      ...config.as4,
      encryptionCert: absOpt(config.as4.encryptionCert),
      encryptionKey: absOpt(config.as4.encryptionKey),
      signingCert: absOpt(config.as4.signingCert),
      signingKey: absOpt(config.as4.signingKey),
      ...(config.as4.erds
        ? {
            erds: {
              signingCert: absOpt(config.as4.erds.signingCert),
              signingKey: absOpt(config.as4.erds.signingKey),
              encryptionCert: absOpt(config.as4.erds.encryptionCert),
              encryptionKey: absOpt(config.as4.erds.encryptionKey),
            },
          }
        : {}),
      tls: {
        clientCert: absOpt(config.as4.tls.clientCert),
        clientKey: absOpt(config.as4.tls.clientKey),
        ca: config.as4.tls.ca?.map(abs),
      },
    },
    smtp: {
      ...config.smtp,
      tlsCert: absOpt(config.smtp.tlsCert),
      tlsKey: absOpt(config.smtp.tlsKey),
      ...(config.smtp.relay
        ? {
            relay: {
              ...config.smtp.relay,
              tlsCert: absOpt(config.smtp.relay.tlsCert),
              tlsKey: absOpt(config.smtp.relay.tlsKey),
            },
          }
        : {}),
      ...(config.smtp.outbound
        ? { outbound: { ...config.smtp.outbound, tlsCa: absOpt(config.smtp.outbound.tlsCa) } }
        : {}),
    },
    peppol: {
      xsd: { ...config.peppol.xsd, schemaDir: absOpt(config.peppol.xsd.schemaDir) },
      jpPint: config.peppol.jpPint.schematron
        ? {
            ...config.peppol.jpPint,
            schematron: {
              ...config.peppol.jpPint.schematron,
              billing: config.peppol.jpPint.schematron.billing.map(abs),
              selfBilling: config.peppol.jpPint.schematron.selfBilling.map(abs),
              saxonJar: abs(config.peppol.jpPint.schematron.saxonJar),
            },
          }
        : config.peppol.jpPint,
    },
    accounts: config.accounts.map((a) => ({
      ...a,
      ...(a.deliveryCertificate ? { deliveryCertificate: abs(a.deliveryCertificate) } : {}),
      ...(a.remoteSeal
        ? { remoteSeal: { ...a.remoteSeal, certificate: abs(a.remoteSeal.certificate) } }
        : {}),
    })),
  };
}
