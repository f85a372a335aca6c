import { createHash } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { QerdsError } from '../core/index.js';
import type { ParticipantLocator, SmpIdentifier } from './types.js';

/**
 * How the DNS name of a participant is built:
 * - `peppol`: Peppol SML 2.0 / Policy for use of Identifiers 4.x (POLICY 7):
 *   `base32(sha256(lower(value))) "." lower(scheme) "." zone`;
 * - `bdxl`: OASIS BDXL 1.0 as eDelivery networks profile it (one label for the whole identifier):
 *   `base32(sha256(lower(scheme "::" value))) "." zone`.
 * Base32 is RFC 4648 §6 without `=` padding, written in lower case; the hash input is UTF-8.
 */
export type BdxlHashMode = 'peppol' | 'bdxl';

/** The answer of a NAPTR query as node:dns gives it (`Resolver#resolveNaptr`). */
export interface NaptrRecord {
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
  readonly order: number;
  readonly preference: number;
}

/** Anything that resolves NAPTR records: `new dns.promises.Resolver()` (with `setServers` for a private DNS). */
export interface NaptrResolver {
  resolveNaptr(hostname: string): Promise<NaptrRecord[]>;
}

export interface BdxlLocatorOptions {
  /** The SML/BDXL DNS zone, e.g. `edelivery.tech.ec.europa.eu` or Peppol's `acc.edelivery.tech.ec.europa.eu`. */
  readonly zone: string;
  /** @defaultValue 'peppol' */
  readonly mode?: BdxlHashMode;
  /** @defaultValue a node:dns Resolver using the system's servers */
  readonly resolver?: NaptrResolver;
  /** U-NAPTR service of an SMP. @defaultValue 'Meta:SMP' */
  readonly service?: string;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 §6 base32, lower case, without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let buffer = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The DNS name under which the participant's SMP is published (see `BdxlHashMode`). Lower-casing happens here only, never in SMP URLs. */
export function bdxlHostName(id: SmpIdentifier, zone: string, mode: BdxlHashMode = 'peppol'): string {
  const hash = (s: string) => base32(createHash('sha256').update(s.toLowerCase(), 'utf8').digest());
  const domain = zone.replace(/^\.+|\.+$/g, '');
  if (mode === 'peppol') {
    if (!id.scheme) throw new QerdsError('DIRECTORY_BDXL_FAILED', 'Peppol SML names need a participant identifier scheme');
    return `${hash(id.value)}.${id.scheme.toLowerCase()}.${domain}`;
  }
  return `${hash(id.scheme ? `${id.scheme}::${id.value}` : id.value)}.${domain}`;
}

/**
 * A `ParticipantLocator` by BDXL (OASIS BDXL 1.0 §3; RFC 4848 U-NAPTR): query the NAPTR records of the
 * participant's host name, keep the terminal (`U`) ones for the SMP service, take the lowest order and
 * preference, and apply its regexp to the host name to get the SMP URL. NXDOMAIN or no record → `undefined`.
 */
export function bdxlLocator(options: BdxlLocatorOptions): ParticipantLocator {
  const resolver = options.resolver ?? new dns.Resolver();
  const service = (options.service ?? 'Meta:SMP').toLowerCase();
  return async (participant) => {
    const host = bdxlHostName(participant, options.zone, options.mode);
    let records: NaptrRecord[];
    try {
      records = await resolver.resolveNaptr(host);
    } catch (cause) {
      const code = (cause as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return undefined;
      throw new QerdsError('DIRECTORY_BDXL_FAILED', `NAPTR lookup of ${host} failed: ${code ?? (cause as Error).message}`, { cause });
    }
    const usable = records
      .filter((r) => r.flags.toLowerCase() === 'u' && r.service.toLowerCase() === service)
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    if (usable.length === 0) return undefined;
    return smpUrlOf(usable[0]!, host);
  };
}

/**
 * Apply a U-NAPTR substitution expression (RFC 3402 §3.2: `delim ere delim replacement delim flags`) to the
 * application-unique string. Only http(s) URLs are accepted (threat: a DNS answer steering the client
 * to `file:` or another scheme).
 */
export function smpUrlOf(record: NaptrRecord, aus: string): URL {
  const delimiter = record.regexp[0];
  const parts = delimiter ? record.regexp.slice(1).split(delimiter) : [];
  if (!delimiter || parts.length !== 3) throw new QerdsError('DIRECTORY_BDXL_FAILED', `unusable NAPTR regexp: ${record.regexp}`);
  const [pattern, replacement, flags] = parts as [string, string, string];
  let result: string;
  try {
    result = aus.replace(new RegExp(pattern, flags.includes('i') ? 'i' : ''), replacement.replace(/\\(\d)/g, '$$$1'));
  } catch (cause) {
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `unusable NAPTR regexp: ${record.regexp}`, { cause });
  }
  let url: URL;
  try {
    url = new URL(result);
  } catch (cause) {
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `NAPTR record gives no URL: ${result}`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new QerdsError('DIRECTORY_BDXL_FAILED', `NAPTR record gives a ${url.protocol} URL`);
  return url;
}
