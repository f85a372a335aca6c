import type { X509Certificate } from 'node:crypto';
import { certificateFrom } from '../../pki/parse-cache.js';

/** A certificate from base64 DER as XML carries it (whitespace allowed); undefined when it is not one. */
export function certFromBase64(text: string): X509Certificate | undefined {
  try {
    return certificateFrom(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
  } catch {
    return undefined;
  }
}

const TYPE_ALIASES: Record<string, string> = {
  '2.5.4.3': 'cn',
  '2.5.4.6': 'c',
  '2.5.4.7': 'l',
  '2.5.4.8': 'st',
  s: 'st',
  '2.5.4.10': 'o',
  '2.5.4.11': 'ou',
  '2.5.4.5': 'serialnumber',
  '2.5.4.97': 'organizationidentifier',
  '1.2.840.113549.1.9.1': 'emailaddress',
  e: 'emailaddress',
  email: 'emailaddress',
  '0.9.2342.19200300.100.1.25': 'dc',
  '2.5.4.9': 'street',
};

function normType(t: string): string {
  const k = t
    .trim()
    .toLowerCase()
    .replace(/^oid\./, '');
  return TYPE_ALIASES[k] ?? k;
}

/** RFC 4514 string (most specific RDN first) → [type, value] in certificate order (least specific first). */
function parseRfc4514(dn: string): [string, string][] {
  const out: [string, string][] = [];
  let cur = '';
  const parts: string[] = [];
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      cur += c + dn[i + 1];
      i++;
    } else if (c === ',' || c === ';' || c === '+') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0) return [];
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/\\([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\(.)/g, '$1');
    out.push([normType(p.slice(0, eq)), value]);
  }
  return out.reverse();
}

/**
 * A certificate's issuer as [normalised type, value] (certificate order), kept per certificate object: the same
 * few (shared by `certificateFrom`) are matched in every message. Derived from the certificate alone.
 */
const issuerRdnsOf = new WeakMap<X509Certificate, readonly (readonly [string, string])[]>();
function issuerRdns(cert: X509Certificate): readonly (readonly [string, string])[] {
  let rdns = issuerRdnsOf.get(cert);
  if (!rdns) {
    rdns = cert.issuer.split('\n').map((line): [string, string] => {
      const eq = line.indexOf('=');
      return [normType(line.slice(0, eq)), line.slice(eq + 1).trim()];
    });
    issuerRdnsOf.set(cert, rdns);
  }
  return rdns;
}

/** Does an XMLDSig X509IssuerName (RFC 4514) name this certificate's issuer? Case-insensitive values. */
export function issuerMatches(cert: X509Certificate, issuerName: string): boolean {
  const mine = issuerRdns(cert);
  const theirs = parseRfc4514(issuerName);
  return (
    mine.length === theirs.length &&
    mine.every(([t, v], i) => t === theirs[i]![0] && v.toLowerCase() === theirs[i]![1].toLowerCase())
  );
}

/** Does an XMLDSig X509SerialNumber (decimal) equal this certificate's serial? */
export function serialMatches(cert: X509Certificate, decimalSerial: string): boolean {
  try {
    return BigInt(decimalSerial.trim()) === BigInt(`0x${cert.serialNumber}`);
  } catch {
    return false;
  }
}
