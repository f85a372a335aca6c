import { readFileSync } from 'node:fs';
import { formatParticipantId, parseParticipantId, type ParticipantId } from '../core/index.js';
import type { Directory, DirectoryEntry } from './types.js';

export interface StaticDirectoryEntry {
  readonly id: string;
  readonly name: string;
  readonly endpoint: string;
  /** PEM file of the AP's AS4 signing certificate (its e-seal, unless it signs AS4 with another key). */
  readonly apCertificate?: string;
  /** The AP's ERDS id (the issuer its evidence names). */
  readonly apId?: string;
  /** PEM file of the AP's e-seal when it differs from `apCertificate`. */
  readonly apSealCertificate?: string;
  /** PEM file of the AP's AS4 encryption certificate. */
  readonly apEncryptionCertificate?: string;
  /** PEM file of the participant's encryption certificate (end-to-end encryption by C2). */
  readonly encryptionCertificate?: string;
  /** PEM file of the AP's TLS certificate (a pin). */
  readonly apTlsCertificate?: string;
  /** SPKI pins of the AP's TLS certificate, `sha256/<base64>`. */
  readonly apTlsPins?: readonly string[];
  /** How the AP is reached (an SMP transport profile id). */
  readonly transportProfile?: string;
}

/**
 * A directory from configuration. Participant ids compare case-insensitively in the scheme and exactly
 * in the value, as ISO 6523 identifiers do. An entry serves every document type and process: a lookup's
 * service is not looked at.
 */
export function createStaticDirectory(entries: readonly StaticDirectoryEntry[]): Directory {
  const byId = new Map<string, DirectoryEntry>();
  for (const entry of entries) {
    const participant = parseParticipantId(entry.id);
    byId.set(key(participant), {
      participant,
      name: entry.name,
      endpoint: entry.endpoint,
      apCertificatePem: entry.apCertificate ? readFileSync(entry.apCertificate, 'utf8') : undefined,
      ...(entry.apId ? { apId: entry.apId } : {}),
      ...(entry.apSealCertificate
        ? { apSealCertificatePem: readFileSync(entry.apSealCertificate, 'utf8') }
        : {}),
      ...(entry.apEncryptionCertificate
        ? { apEncryptionCertificatePem: readFileSync(entry.apEncryptionCertificate, 'utf8') }
        : {}),
      ...(entry.encryptionCertificate
        ? { encryptionCertificatePem: readFileSync(entry.encryptionCertificate, 'utf8') }
        : {}),
      ...(entry.apTlsCertificate
        ? { apTlsCertificatePem: readFileSync(entry.apTlsCertificate, 'utf8') }
        : {}),
      ...(entry.apTlsPins?.length ? { apTlsPins: entry.apTlsPins } : {}),
      ...(entry.transportProfile ? { transportProfile: entry.transportProfile } : {}),
    });
  }
  return { lookup: async (participant) => byId.get(key(participant)) };
}

function key(id: ParticipantId): string {
  return formatParticipantId({ scheme: id.scheme.toLowerCase(), value: id.value });
}
