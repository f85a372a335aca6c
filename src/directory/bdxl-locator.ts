import { createHash } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { QerdsError } from '../core/index.js';
import type { ParticipantLocator, SmpIdentifier } from './types.js';

/**
 * How the DNS name of a participant is built:
 * - `peppol`: Peppol SML 2.0 / Policy for use of Identifiers 4.x (POLICY 7):
 *   `base32(sha256(lower(value))) "." lower(scheme) "." zone`;
 * - `bdxl`: OASIS BDXL 1.0 as eDelivery networks profile it (one label for the whole identifier):
 *   `base32(sha256(lower(scheme "::" value))) "." zone`;
 * - `peppol-cname`: the older Peppol SML form (SML 1.x, before NAPTR records), a CNAME instead of NAPTR records:
 *   `"B-" hex(md5(lower(value))) "." lower(scheme) "." zone`, as peppol-commons' `PeppolURLProvider` builds it (its
 *   test vectors are in test/fixtures/directory/bdxl-vectors.json; the SML 1.x specification is not among the
 *   sources available offline). The SMP is then asked at `http://<host>/` (that provider: "MUST always be http,
 *   port 80 and the root path").
 * Base32 is RFC 4648 §6 without `=` padding, written in lower case; the hash input is UTF-8.
 */
export type BdxlHashMode = 'peppol' | 'bdxl' | 'peppol-cname';

/** The answer of a NAPTR query as node:dns gives it (`Resolver#resolveNaptr`). */
export interface NaptrRecord {
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
  readonly order: number;
  readonly preference: number;
}

/** Anything that resolves NAPTR (and, for `peppol-cname`, CNAME) records: `new dns.promises.Resolver()`. */
export interface NaptrResolver {
  resolveNaptr(hostname: string): Promise<NaptrRecord[]>;
  resolveCname?(hostname: string): Promise<string[]>;
}

export interface BdxlLocatorOptions {
  /** The SML/BDXL DNS zone, e.g. Peppol's `participant.sml.prod.tech.peppol.org` (test: `participant.sml.test.tech.peppol.org`). */
  readonly zone: string;
  /** @defaultValue 'peppol' */
  readonly mode?: BdxlHashMode;
  /** @defaultValue a node:dns Resolver using `servers` */
  readonly resolver?: NaptrResolver;
  /** DNS servers to ask (`host` or `host:port`), e.g. those of a private SML; ignored with `resolver`. @defaultValue the system's */
  readonly servers?: readonly string[];
  /** `peppol-cname` only: the SMP URL of the host the CNAME chain ends at. @defaultValue `http://<host>/` */
  readonly smpUrlOfHost?: (host: string) => URL;
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
  if (mode === 'peppol-cname') {
    const label = `B-${createHash('md5').update(id.value.toLowerCase(), 'utf8').digest('hex')}`;
    return [label, id.scheme?.toLowerCase(), domain].filter(Boolean).join('.');
  }
  if (mode === 'peppol') {
    if (!id.scheme)
      throw new QerdsError('DIRECTORY_BDXL_FAILED', 'Peppol SML names need a participant identifier scheme');
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
  const resolver = options.resolver ?? systemResolver(options.servers);
  if (options.mode === 'peppol-cname') return cnameLocator(options, resolver);
  const service = (options.service ?? 'Meta:SMP').toLowerCase();
  return async (participant) => {
    const host = bdxlHostName(participant, options.zone, options.mode);
    let records: NaptrRecord[];
    try {
      records = await resolver.resolveNaptr(host);
    } catch (cause) {
      const code = (cause as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return undefined;
      throw new QerdsError(
        'DIRECTORY_BDXL_FAILED',
        `NAPTR lookup of ${host} failed: ${code ?? (cause as Error).message}`,
        { cause },
      );
    }
    const usable = records
      .filter((r) => r.flags.toLowerCase() === 'u' && r.service.toLowerCase() === service)
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    if (usable.length === 0) return undefined;
    return smpUrlOf(usable[0]!, host);
  };
}

function systemResolver(servers: readonly string[] | undefined): NaptrResolver {
  const resolver = new dns.Resolver();
  if (servers?.length) resolver.setServers([...servers]);
  return resolver;
}

/** Longest CNAME chain followed: the SML's participant name → the SMP's publisher name → its host, with room to spare. */
const MAX_CNAME_HOPS = 8;

/**
 * The older Peppol form: the participant's `B-<md5>` name is a CNAME (through the SMP's name under the SML zone) to
 * the SMP's host. The chain is followed with the configured resolver, so a private SML zone works and a participant
 * without a record (NXDOMAIN) is "not registered" rather than an unreachable SMP; the SMP URL is built from the
 * host the chain ends at. A dangling or looping chain is DIRECTORY_BDXL_FAILED.
 */
function cnameLocator(options: BdxlLocatorOptions, resolver: NaptrResolver): ParticipantLocator {
  const urlOf = options.smpUrlOfHost ?? ((host: string) => new URL(`http://${host}/`));
  return async (participant) => {
    const first = bdxlHostName(participant, options.zone, 'peppol-cname');
    if (!resolver.resolveCname)
      throw new QerdsError('DIRECTORY_BDXL_FAILED', 'the DNS resolver cannot resolve CNAME records');
    let host = first;
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      let targets: string[];
      try {
        targets = await resolver.resolveCname(host);
      } catch (cause) {
        const code = (cause as { code?: string }).code;
        if (code === 'ENOTFOUND' && hop === 0) return undefined;
        // The name exists but is no alias: it is the SMP's host (its A/AAAA records are the HTTP client's business).
        if (code === 'ENODATA') return smpUrl(urlOf, host);
        throw new QerdsError(
          'DIRECTORY_BDXL_FAILED',
          `CNAME lookup of ${host} (for ${first}) failed: ${code ?? (cause as Error).message}`,
          { cause },
        );
      }
      if (targets.length === 0) return smpUrl(urlOf, host);
      host = targets[0]!.replace(/\.$/, '');
    }
    throw new QerdsError(
      'DIRECTORY_BDXL_FAILED',
      `the CNAME chain of ${first} is longer than ${MAX_CNAME_HOPS} names`,
    );
  };
}

function smpUrl(urlOf: (host: string) => URL, host: string): URL {
  const url = urlOf(host);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `the SMP of ${host} would be a ${url.protocol} URL`);
  return url;
}

/**
 * Apply a U-NAPTR substitution expression (RFC 3402 §3.2: `delim ere delim replacement delim flags`) to the
 * application-unique string. Only http(s) URLs are accepted (threat: a DNS answer steering the client
 * to `file:` or another scheme).
 */
export function smpUrlOf(record: NaptrRecord, aus: string): URL {
  const delimiter = record.regexp[0];
  const parts = delimiter ? record.regexp.slice(1).split(delimiter) : [];
  if (!delimiter || parts.length !== 3)
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `unusable NAPTR regexp: ${record.regexp}`);
  const [pattern, replacement, flags] = parts as [string, string, string];
  let result: string;
  try {
    result = aus.replace(
      new RegExp(pattern, flags.includes('i') ? 'i' : ''),
      replacement.replace(/\\(\d)/g, '$$$1'),
    );
  } catch (cause) {
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `unusable NAPTR regexp: ${record.regexp}`, { cause });
  }
  let url: URL;
  try {
    url = new URL(result);
  } catch (cause) {
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `NAPTR record gives no URL: ${result}`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new QerdsError('DIRECTORY_BDXL_FAILED', `NAPTR record gives a ${url.protocol} URL`);
  return url;
}
