import { execFileSync } from 'node:child_process';
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type pkcs11Module from 'pkcs11js';
import { QerdsError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports.js';
import { devName, importRsaSigningKey, issueLeaf } from './cert-factory.js';
import { readDerElement } from './der.js';
import { devPkiLayout } from './layout.js';
import {
  closePkcs11Module,
  findObject,
  findTokenSlot,
  loginSession,
  openPkcs11Module,
} from './pkcs11-signer.js';
import { webCrypto, x509 } from './x509.js';

type Pkcs11 = pkcs11Module.PKCS11;
let pkcs11Loaded: typeof pkcs11Module | undefined;
/**
 * pkcs11js, a native addon, is required at first use, not when the module loads: pki/ is loaded by every verifier
 * (`qerds verify`), which never opens a token (≈25–40 ms of start-up CPU saved).
 */
const pkcs11js = new Proxy({} as typeof pkcs11Module, {
  get: (_, name) =>
    Reflect.get((pkcs11Loaded ??= createRequire(import.meta.url)('pkcs11js') as typeof pkcs11Module), name),
});

/** Where Debian/Ubuntu's softhsm2 package puts the module. */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmSealOptions {
  /** The dev PKI whose CA certifies the token key (`qerds pki init`). */
  readonly pkiDir: string;
  /** Directory of the softhsm configuration and token store (created). */
  readonly dir: string;
  /** The sender, `<scheme>:<value>`: in the certificate's CN. */
  readonly sender: string;
  readonly tokenLabel: string;
  readonly keyLabel: string;
  readonly pin: string;
  readonly soPin: string;
  /** @defaultValue 'rsa' (2048 bits); 'ec' is P-256. */
  readonly keyType?: 'rsa' | 'ec';
  /** @defaultValue SOFTHSM_MODULE */
  readonly module?: string;
  readonly clock?: Clock;
}

export interface SoftHsmSealResult {
  /** Value for SOFTHSM2_CONF: the AP must run with it to find the token. */
  readonly conf: string;
  readonly module: string;
  readonly certificateFile: string;
  readonly certificate: X509Certificate;
}

const DAY_MS = 86_400_000;
// DER OID prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of a P-256 key.
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

/**
 * DEV/TEST ONLY. A softhsm2 token holding a sender's remote e-seal key, certified by the dev CA: writes
 * `<dir>/softhsm2.conf` (token store in `<dir>/tokens`), initialises a token with `softhsm2-util`, generates
 * the key pair IN the token (CKA_SENSITIVE, not CKA_EXTRACTABLE: the key never leaves it) and writes the
 * certificate to `<dir>/<keyLabel>.crt.pem`. Sets `process.env.SOFTHSM2_CONF`, which softhsm reads when the
 * module is initialised: call this before anything in the process loads the module with another config.
 */
export async function createSoftHsmSealToken(options: SoftHsmSealOptions): Promise<SoftHsmSealResult> {
  const module = options.module ?? SOFTHSM_MODULE;
  const dir = resolve(options.dir);
  const conf = join(dir, 'softhsm2.conf');
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  writeFileSync(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  // A second token with the same label would leave the AP to pick either of them.
  const slots = execFileSync('softhsm2-util', ['--show-slots'], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    encoding: 'utf8',
  });
  if (slots.split('\n').some((line) => /^\s*Label:\s*(.*)$/.exec(line)?.[1]?.trim() === options.tokenLabel)) {
    throw new QerdsError(
      'PKI_DIR_NOT_EMPTY',
      `${dir} already holds a token labelled "${options.tokenLabel}"`,
    );
  }
  process.env.SOFTHSM2_CONF = conf;
  try {
    execFileSync(
      'softhsm2-util',
      [
        '--init-token',
        '--free',
        '--label',
        options.tokenLabel,
        '--pin',
        options.pin,
        '--so-pin',
        options.soPin,
      ],
      {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new QerdsError(
      'PKI_PKCS11_MODULE',
      `softhsm2-util --init-token failed: ${stderr || (err as Error).message}`,
      { cause: err },
    );
  }

  const publicKey = generateKeyInToken(
    module,
    options.tokenLabel,
    options.keyLabel,
    options.pin,
    options.keyType ?? 'rsa',
  );
  const layout = devPkiLayout(options.pkiDir);
  const caCert = new x509.X509Certificate(readFileSync(layout.caCert, 'utf8'));
  const signingKey = await importRsaSigningKey(readFileSync(layout.caKey, 'utf8'));
  const algorithm =
    publicKey.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const webKey = await webCrypto.subtle.importKey('spki', new Uint8Array(spki), algorithm, true, ['verify']);
  const now = (options.clock ?? systemClock).now();
  const cert = await issueLeaf({ cert: caCert, signingKey }, webKey, {
    subject: devName(`qerds-ap DEV ONLY remote e-seal of ${options.sender}`, 'Remote e-seal'),
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + 825 * DAY_MS),
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
  });
  const certificateFile = join(dir, `${options.keyLabel}.crt.pem`);
  const pem = cert.toString('pem') + '\n';
  writeFileSync(certificateFile, pem);
  return { conf, module, certificateFile, certificate: new X509Certificate(pem) };
}

/** Generate a signing key pair in the token; returns its public key. */
function generateKeyInToken(
  module: string,
  tokenLabel: string,
  keyLabel: string,
  pin: string,
  keyType: 'rsa' | 'ec',
): KeyObject {
  const p11 = openPkcs11Module(module);
  try {
    const session = loginSession(p11, findTokenSlot(p11, { module, tokenLabel }), pin, true);
    try {
      if (findObject(p11, session, pkcs11js.CKO_PRIVATE_KEY, keyLabel)) {
        throw new QerdsError('PKI_PKCS11_KEY_EXISTS', `the token already has a key labelled "${keyLabel}"`);
      }
      const id = Buffer.from(keyLabel, 'utf8');
      const common = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: keyLabel },
        { type: pkcs11js.CKA_ID, value: id },
      ];
      // Threat: a seal key that can be read out of the token can be copied and used without the AP. The token
      // enforces both attributes; CKA_SENSITIVE also forbids wrapping the key out under another key.
      const privateTemplate = [
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
      ];
      const publicTemplate =
        keyType === 'rsa'
          ? [
              ...common,
              { type: pkcs11js.CKA_VERIFY, value: true },
              { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
              { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            ]
          : [
              ...common,
              { type: pkcs11js.CKA_VERIFY, value: true },
              { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS },
            ];
      const mechanism = {
        mechanism: keyType === 'rsa' ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN,
      };
      const pair = p11.C_GenerateKeyPair(session, mechanism, publicTemplate, privateTemplate);
      return keyType === 'rsa'
        ? rsaPublicKey(p11, session, pair.publicKey)
        : ecPublicKey(p11, session, pair.publicKey);
    } finally {
      p11.C_CloseSession(session);
    }
  } finally {
    closePkcs11Module(module);
  }
}

function rsaPublicKey(p11: Pkcs11, session: Buffer, handle: Buffer): KeyObject {
  const [n, e] = p11.C_GetAttributeValue(session, handle, [
    { type: pkcs11js.CKA_MODULUS },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT },
  ]);
  const b64u = (b: unknown) => (b as Buffer).toString('base64url');
  return createPublicKey({ key: { kty: 'RSA', n: b64u(n?.value), e: b64u(e?.value) }, format: 'jwk' });
}

function ecPublicKey(p11: Pkcs11, session: Buffer, handle: Buffer): KeyObject {
  const [point] = p11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_POINT }]);
  // PKCS#11 v2.40 §2.3.3: CKA_EC_POINT is the DER OCTET STRING of the uncompressed point 04 || x || y.
  const raw = readDerElement(point?.value as Buffer).content;
  if (raw[0] !== 0x04 || raw.length !== 65)
    throw new QerdsError(
      'PKI_PKCS11_MODULE',
      'the token returned an EC point that is not an uncompressed P-256 point',
    );
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}
