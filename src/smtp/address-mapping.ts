import { formatParticipantId, type ParticipantId } from '../core/index.js';

/**
 * How e-mail addresses name participants at this AP.
 *
 * 1. Derived addresses: `<scheme>-<value>@<domain>` ↔ participant `<scheme>:<value>`, where `<domain>` is
 *    one of this AP's mail domains. The first `-` separates scheme and value (ISO 6523 ICDs and the other
 *    schemes in use have no `-`); the value keeps its case (identifiers compare exactly), the scheme and the
 *    domain are case-insensitive. Example: `0188-1234567890123@ap.example` ↔ `0188:1234567890123`.
 *    Values with characters outside RFC 5322 `atext` and `.` cannot be written this way.
 * 2. Explicit addresses: `{ email, participant }` pairs from the directory config, for participants whose
 *    registered address is their own (e.g. `keiri@sample-trading.co.jp`). They are matched
 *    case-insensitively as a whole and win over the derived form.
 *
 * The mapping is syntax only: whether the participant exists is the directory's answer.
 */
export interface AddressMappingOptions {
  /** This AP's mail domains; the first is used to write derived addresses. */
  readonly domains: readonly string[];
  /** Explicit address ↔ participant pairs. */
  readonly explicit?: readonly { readonly email: string; readonly participant: ParticipantId }[];
}

export interface AddressMapping {
  /** The participant an address names, or undefined when it names none of ours (foreign or malformed). */
  toParticipant(address: string): ParticipantId | undefined;
  /** The address of a participant: its explicit address if it has one, else the derived one (if writable). */
  toAddress(participant: ParticipantId): string | undefined;
  /** Whether the address is in one of this AP's domains (a miss there is "unknown user", not "relay"). */
  isLocalDomain(address: string): boolean;
}

const SCHEME = /^[A-Za-z0-9]+$/;
// RFC 5322 atext plus dots (dot-atom), without `-` restrictions: the value may contain `-`.
const VALUE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;

export function createAddressMapping(options: AddressMappingOptions): AddressMapping {
  const domains = options.domains.map((d) => d.toLowerCase());
  const byAddress = new Map<string, ParticipantId>();
  const byParticipant = new Map<string, string>();
  for (const { email, participant } of options.explicit ?? []) {
    byAddress.set(email.toLowerCase(), participant);
    const key = participantKey(participant);
    if (!byParticipant.has(key)) byParticipant.set(key, email);
  }

  function split(address: string): { local: string; domain: string } | undefined {
    const at = address.lastIndexOf('@');
    if (at <= 0 || at === address.length - 1) return undefined;
    return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
  }

  return Object.freeze({
    toParticipant(address: string): ParticipantId | undefined {
      const explicit = byAddress.get(address.toLowerCase());
      if (explicit) return explicit;
      const parts = split(address);
      if (!parts || !domains.includes(parts.domain)) return undefined;
      const dash = parts.local.indexOf('-');
      if (dash <= 0 || dash === parts.local.length - 1) return undefined;
      const scheme = parts.local.slice(0, dash);
      const value = parts.local.slice(dash + 1);
      if (!SCHEME.test(scheme) || !VALUE.test(value)) return undefined;
      return { scheme: scheme.toLowerCase(), value };
    },
    toAddress(participant: ParticipantId): string | undefined {
      const explicit = byParticipant.get(participantKey(participant));
      if (explicit) return explicit;
      const domain = domains[0];
      if (!domain || !SCHEME.test(participant.scheme) || !VALUE.test(participant.value)) return undefined;
      return `${participant.scheme}-${participant.value}@${domain}`;
    },
    isLocalDomain(address: string): boolean {
      const parts = split(address);
      return parts !== undefined && domains.includes(parts.domain);
    },
  });
}

function participantKey(id: ParticipantId): string {
  return formatParticipantId({ scheme: id.scheme.toLowerCase(), value: id.value });
}
