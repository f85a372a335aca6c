import { createHash, timingSafeEqual, verify, type X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type pkcs11Module from 'pkcs11js';
import { QerdsError } from '../core/errors.js';
import { ecdsaP1363ToDer, signerKeyType } from './signer.js';
import type { Signer } from './types.js';

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

/** Where a key is in a PKCS#11 token. The PIN is passed in, read from an env var by the caller, never from a file. */
export interface Pkcs11KeyRef {
  /** Path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  readonly module: string;
  /** The token, by label (CKA_LABEL of the token), or by slot id. One of the two. */
  readonly tokenLabel?: string;
  readonly slot?: number;
  /** CKA_LABEL of the private key object. */
  readonly keyLabel: string;
  /** User PIN of the token. */
  readonly pin: string;
}

/** A PKCS#11 {@link Signer}, holding a logged-in session until `close`. */
export interface Pkcs11Signer extends Signer {
  readonly keyStore: 'pkcs11';
  /** The private key's CKA_EXTRACTABLE, CKA_SENSITIVE and CKA_PRIVATE, read from the token. */
  keyAttributes(): {
    readonly extractable: boolean;
    readonly sensitive: boolean;
    readonly neverExtractable: boolean;
  };
  close(): void;
}

export const pkcs11Errors = {
  PKI_PKCS11_MODULE: {
    text: 'the PKCS#11 module cannot be loaded or initialised',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_TOKEN_NOT_FOUND: {
    text: 'no PKCS#11 token with that label or slot',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_PIN_INCORRECT: { text: 'the PKCS#11 token refused the PIN', httpStatus: 500, retryable: false },
  PKI_PKCS11_KEY_NOT_FOUND: {
    text: 'no private key with that label in the token',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_KEY_EXISTS: {
    text: 'the token already has a key with that label',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_KEY_MISMATCH: {
    text: 'the token key does not match the certificate',
    httpStatus: 500,
    retryable: false,
  },
  PKI_PKCS11_SIGN_FAILED: { text: 'the PKCS#11 token failed to sign', httpStatus: 500, retryable: true },
} as const;

/*
 * A PKCS#11 library keeps its state per process: C_Initialize once, C_Finalize when the last user is done.
 * This table is that process-wide fact made explicit (two signers on one module, two APs in one test process);
 * it holds nothing but the loaded modules and how many signers use each.
 */
const loaded = new Map<
  Pkcs11,
  { readonly path: string; users: number; readonly logins: Map<string, Buffer> }
>();
const byPath = new Map<string, Pkcs11>();

export function openPkcs11Module(path: string): Pkcs11 {
  const known = byPath.get(path);
  if (known) {
    loaded.get(known)!.users += 1;
    return known;
  }
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(path);
    p11.C_Initialize();
  } catch (err) {
    throw new QerdsError('PKI_PKCS11_MODULE', `PKCS#11 module ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  loaded.set(p11, { path, users: 1, logins: new Map() });
  byPath.set(path, p11);
  return p11;
}

export function closePkcs11Module(path: string): void {
  const p11 = byPath.get(path);
  const known = p11 && loaded.get(p11);
  if (!p11 || !known) return;
  known.users -= 1;
  if (known.users > 0) return;
  loaded.delete(p11);
  byPath.delete(path);
  p11.C_Finalize();
  p11.close();
}

/** The slot of the token named by label or slot id. */
export function findTokenSlot(
  p11: Pkcs11,
  ref: { readonly tokenLabel?: string; readonly slot?: number; readonly module: string },
): Buffer {
  for (const slot of p11.C_GetSlotList(true)) {
    const matches =
      ref.tokenLabel !== undefined
        ? p11.C_GetTokenInfo(slot).label.trim() === ref.tokenLabel
        : ref.slot !== undefined && slot.readUIntLE(0, slot.length) === ref.slot;
    if (matches) return slot;
  }
  throw new QerdsError(
    'PKI_PKCS11_TOKEN_NOT_FOUND',
    `no PKCS#11 token ${ref.tokenLabel !== undefined ? `labelled "${ref.tokenLabel}"` : `in slot ${ref.slot}`} in ${ref.module}`,
  );
}

/** Open a session and log the user in; a wrong PIN is PKI_PKCS11_PIN_INCORRECT. */
export function loginSession(p11: Pkcs11, slot: Buffer, pin: string, readWrite = false): Buffer {
  const logins = loaded.get(p11)?.logins;
  const slotKey = slot.toString('hex');
  const pinDigest = createHash('sha256').update(pin, 'utf8').digest();
  const session = p11.C_OpenSession(
    slot,
    pkcs11js.CKF_SERIAL_SESSION | (readWrite ? pkcs11js.CKF_RW_SESSION : 0),
  );
  const refused = (cause: unknown) =>
    new QerdsError(
      'PKI_PKCS11_PIN_INCORRECT',
      `the PKCS#11 token refused the PIN${cause instanceof Error ? ` (${cause.message})` : ''}`,
      { cause },
    );
  try {
    p11.C_Login(session, pkcs11js.CKU_USER, pin);
    logins?.set(slotKey, pinDigest);
  } catch (err) {
    const code = (err as { code?: number }).code;
    const earlier = logins?.get(slotKey);
    // A login holds for every session of the application on that token, so the token does not check this PIN
    // again. Threat: a second configured user of the token (another sender's entry) riding on the first one's
    // login with a wrong or no PIN. The PIN must be the one that logged in.
    if (code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN && earlier && timingSafeEqual(earlier, pinDigest))
      return session;
    p11.C_CloseSession(session);
    if (
      code === pkcs11js.CKR_PIN_INCORRECT ||
      code === pkcs11js.CKR_PIN_LEN_RANGE ||
      code === pkcs11js.CKR_PIN_LOCKED ||
      code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN
    ) {
      throw refused(err);
    }
    throw err;
  }
  return session;
}

/** The one object of `cls` with this CKA_LABEL, or undefined. */
export function findObject(p11: Pkcs11, session: Buffer, cls: number, label: string): Buffer | undefined {
  p11.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: cls },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    return p11.C_FindObjects(session, 1)[0];
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

const RSA_MECHANISM = {
  get sha256() {
    return pkcs11js.CKM_SHA256_RSA_PKCS;
  },
  get sha384() {
    return pkcs11js.CKM_SHA384_RSA_PKCS;
  },
  get sha512() {
    return pkcs11js.CKM_SHA512_RSA_PKCS;
  },
} as const;

/**
 * Sign with a private key that stays in a PKCS#11 token (a remote e-seal held by the AP for a sender):
 * RSA with CKM_SHA<n>_RSA_PKCS (the token hashes), ECDSA with CKM_ECDSA over a digest taken here (tokens
 * differ in which hash-and-sign ECDSA mechanisms they offer; all offer CKM_ECDSA). CKM_ECDSA returns r || s:
 * kept for XMLDSig, converted to DER for CMS.
 *
 * One session per signer; a PKCS#11 session runs one operation at a time (C_SignInit … C_Sign), so signatures
 * are queued here. The certificate is checked against the token's public key by a test signature at open,
 * so a key label that names another key fails at start, not at the first seal.
 */
export async function openPkcs11Signer(
  ref: Pkcs11KeyRef,
  certificate: X509Certificate,
  chain: readonly X509Certificate[] = [],
): Promise<Pkcs11Signer> {
  const keyType = signerKeyType(certificate);
  const p11 = openPkcs11Module(ref.module);
  let handles: KeySession | undefined;
  try {
    handles = connect(p11, ref);
    const signer = pkcs11Signer(p11, ref, handles, keyType, certificate, chain);
    await checkKeyMatchesCertificate(signer);
    return signer;
  } catch (err) {
    if (handles) closeQuietly(p11, handles.session);
    closePkcs11Module(ref.module);
    throw err;
  }
}

interface KeySession {
  readonly session: Buffer;
  readonly key: Buffer;
}

/** A logged-in session on the token and the private key's handle in it. */
function connect(p11: Pkcs11, ref: Pkcs11KeyRef): KeySession {
  const session = loginSession(p11, findTokenSlot(p11, ref), ref.pin);
  const key = findObject(p11, session, pkcs11js.CKO_PRIVATE_KEY, ref.keyLabel);
  if (!key) {
    closeQuietly(p11, session);
    throw new QerdsError(
      'PKI_PKCS11_KEY_NOT_FOUND',
      `no private key labelled "${ref.keyLabel}" in the token`,
    );
  }
  return { session, key };
}

function closeQuietly(p11: Pkcs11, session: Buffer): void {
  try {
    p11.C_CloseSession(session);
  } catch {
    // Already gone with the token or closed by C_CloseAllSessions: nothing left to release.
  }
}

/** Return values that mean the session (not the request) is gone: an HSM restart, a fail-over, a token re-inserted. */
const LOST_SESSION = (): ReadonlySet<number> =>
  new Set([
    pkcs11js.CKR_SESSION_HANDLE_INVALID,
    pkcs11js.CKR_SESSION_CLOSED,
    pkcs11js.CKR_USER_NOT_LOGGED_IN,
    pkcs11js.CKR_KEY_HANDLE_INVALID,
    pkcs11js.CKR_OBJECT_HANDLE_INVALID,
    pkcs11js.CKR_DEVICE_REMOVED,
    pkcs11js.CKR_TOKEN_NOT_PRESENT,
  ]);

function pkcs11Signer(
  p11: Pkcs11,
  ref: Pkcs11KeyRef,
  initial: KeySession,
  keyType: 'rsa' | 'ec',
  certificate: X509Certificate,
  chain: readonly X509Certificate[],
): Pkcs11Signer {
  // RSA signature length is the modulus length; an ECDSA r || s at most twice the order's length (P-521: 132).
  const maxSignature = keyType === 'rsa' ? 1024 : 132;
  let handles = initial;
  let queue: Promise<unknown> = Promise.resolve();
  let open = true;
  const signOnce = async (data: Buffer, digest: 'sha256' | 'sha384' | 'sha512'): Promise<Buffer> => {
    const { session, key } = handles;
    if (keyType === 'rsa') {
      p11.C_SignInit(session, { mechanism: RSA_MECHANISM[digest] }, key);
      return p11.C_SignAsync(session, data, Buffer.alloc(maxSignature));
    }
    p11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key);
    return p11.C_SignAsync(session, createHash(digest).update(data).digest(), Buffer.alloc(maxSignature));
  };
  // A lost session is opened again (and logged in) once per signature; a second failure is the caller's error.
  const signWithReconnect = async (data: Buffer, digest: 'sha256' | 'sha384' | 'sha512'): Promise<Buffer> => {
    if (!open) throw new QerdsError('PKI_PKCS11_SIGN_FAILED', 'the PKCS#11 signer is closed');
    try {
      return await signOnce(data, digest);
    } catch (err) {
      if (!LOST_SESSION().has((err as { code?: number }).code ?? -1)) throw err;
      closeQuietly(p11, handles.session);
      handles = connect(p11, ref);
      return signOnce(data, digest);
    }
  };
  return {
    certificate,
    chain,
    keyType,
    keyStore: 'pkcs11',
    async sign(data, { digest, dsaEncoding }) {
      const result = queue.then(() => signWithReconnect(data, digest));
      queue = result.catch(() => undefined);
      let value: Buffer;
      try {
        value = await result;
      } catch (err) {
        if (err instanceof QerdsError) throw err;
        throw new QerdsError(
          'PKI_PKCS11_SIGN_FAILED',
          `PKCS#11 signature failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
      return keyType === 'ec' && dsaEncoding === 'der' ? ecdsaP1363ToDer(value) : value;
    },
    keyAttributes() {
      const attrs = p11.C_GetAttributeValue(handles.session, handles.key, [
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
      ]);
      const bool = (i: number) => (attrs[i]?.value as Buffer | undefined)?.[0] === 1;
      return { extractable: bool(0), sensitive: bool(1), neverExtractable: bool(2) };
    },
    close() {
      if (!open) return;
      open = false;
      closeQuietly(p11, handles.session);
      closePkcs11Module(ref.module);
    },
  };
}

async function checkKeyMatchesCertificate(signer: Pkcs11Signer): Promise<void> {
  const probe = Buffer.from('qerds-ap: does the token key match the certificate?');
  // A key of another type fails in the token (CKR_KEY_TYPE_INCONSISTENT); one of the same type fails here.
  const value = await signer.sign(probe, { digest: 'sha256', dsaEncoding: 'der' }).catch(() => undefined);
  if (!value || !verify('sha256', probe, signer.certificate.publicKey, value)) {
    throw new QerdsError(
      'PKI_PKCS11_KEY_MISMATCH',
      `the token key does not match the certificate ${signer.certificate.subject.replace(/\n/g, ', ')}`,
    );
  }
}
