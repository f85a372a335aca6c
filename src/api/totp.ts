import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * TOTP (RFC 6238) over HOTP (RFC 4226) on node:crypto's HMAC: the second factor of a person picking
 * up content with a one-time link (REQ4). SHA-1, 30-second steps and 6 digits are what authenticator
 * apps use by default (RFC 6238 §4, Google Authenticator's key-uri format).
 */
export interface TotpOptions {
  /** @defaultValue 30 (seconds) */
  readonly stepSeconds?: number;
  /** @defaultValue 6 */
  readonly digits?: number;
  /** HMAC hash. @defaultValue 'sha1' */
  readonly algorithm?: 'sha1' | 'sha256' | 'sha512';
}

/** The TOTP value of `secret` at `time` (RFC 6238 §4.2: T = floor(unix time / step), HOTP(K, T)). */
export function totp(secret: Buffer, time: Date, options: TotpOptions = {}): string {
  const step = Math.floor(time.getTime() / 1000 / (options.stepSeconds ?? 30));
  return hotp(secret, step, options.digits ?? 6, options.algorithm ?? 'sha1');
}

/**
 * Whether `code` is the TOTP of `secret` at `now`, or one step before or after (RFC 6238 §5.2: allow
 * for clock drift and transmission delay, at most one step back). Compared in constant time.
 */
export function verifyTotp(
  secret: Buffer,
  code: string,
  now: Date,
  options: TotpOptions & { readonly window?: number } = {},
): boolean {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return false;
  const stepSeconds = options.stepSeconds ?? 30;
  const window = options.window ?? 1;
  let ok = false;
  for (let i = -window; i <= window; i++) {
    const expected = totp(secret, new Date(now.getTime() + i * stepSeconds * 1000), options);
    // No early exit: every candidate is compared (threat: timing telling which step matched).
    if (timingSafeEqual(Buffer.from(expected), Buffer.from(code))) ok = true;
  }
  return ok;
}

/** HOTP (RFC 4226 §5.3): HMAC over the 8-octet counter, dynamic truncation, modulo 10^digits. */
function hotp(secret: Buffer, counter: number, digits: number, algorithm: string): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 4648 §6 base32 (the form authenticator apps show and scan), case-insensitive, padding and spaces ignored. */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: "${char}"`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
