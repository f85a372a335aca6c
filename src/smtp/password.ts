import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes of the SMTP sender accounts, as written in the config:
 *
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>      (RFC 7914; the recommended form)
 *
 * The config never holds a password in clear (threat: a leaked config file or backup gives away every
 * account). scrypt is memory-hard, so a leaked hash is expensive to brute-force.
 */
export interface ScryptParameters {
  /** CPU/memory cost, a power of two. @defaultValue 16384 */
  readonly N: number;
  /** Block size. @defaultValue 8 */
  readonly r: number;
  /** Parallelisation. @defaultValue 1 */
  readonly p: number;
}

const DEFAULT_PARAMETERS: ScryptParameters = Object.freeze({ N: 16384, r: 8, p: 1 });
const KEY_LENGTH = 32;
const HASH_FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

interface ParsedHash {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** A new `scrypt$…` hash of `password` with a random 16-byte salt. */
export async function hashPassword(
  password: string,
  parameters: Partial<ScryptParameters> = {},
): Promise<string> {
  const p = { ...DEFAULT_PARAMETERS, ...parameters };
  const salt = randomBytes(16);
  const key = await derive(password, salt, p);
  return `scrypt$${p.N}$${p.r}$${p.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `hash` is in a form `verifyPassword` understands (checked when the config is loaded). */
export function isPasswordHash(hash: string): boolean {
  return parseHash(hash) !== undefined;
}

/**
 * Whether `password` matches `hash`, compared in constant time. A malformed hash never matches.
 * With `hash` undefined (unknown user) the same work is done against a dummy, so that the reply time
 * does not tell which user names exist (threat: account enumeration by timing).
 */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const parsed = hash === undefined ? undefined : parseHash(hash);
  const target = parsed ?? dummy;
  const key = await derive(password, target.salt, target.parameters, target.key.length);
  return timingSafeEqual(key, target.key) && parsed !== undefined;
}

const dummy: ParsedHash = {
  parameters: DEFAULT_PARAMETERS,
  salt: Buffer.alloc(16),
  key: Buffer.alloc(KEY_LENGTH),
};

function parseHash(hash: string): ParsedHash | undefined {
  const m = HASH_FORMAT.exec(hash);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N a power of two ≥ 2^10; bounded so that a hostile config cannot make one AUTH eat gigabytes.
  if (N < 1024 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const key = Buffer.from(m[5]!, 'base64');
  if (key.length < 16 || key.length > 64) return undefined;
  return { parameters: { N, r, p }, salt: Buffer.from(m[4]!, 'base64'), key };
}

function derive(
  password: string,
  salt: Buffer,
  p: ScryptParameters,
  keyLength = KEY_LENGTH,
): Promise<Buffer> {
  const options: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
