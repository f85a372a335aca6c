import type { AssuranceLevel } from './assurance.js';

/**
 * A participant (sender or recipient) of the registered delivery, identified in a scheme in the
 * ISO 6523 style: `0188:1234567890123` (Japanese corporate number), `9930:DE123…` (VAT), `email:a@b`.
 */
export interface ParticipantId {
  /** Scheme code, e.g. `0188`, `9930`, `email`. */
  readonly scheme: string;
  readonly value: string;
}

export function formatParticipantId(id: ParticipantId): string {
  return `${id.scheme}:${id.value}`;
}

export function parseParticipantId(text: string): ParticipantId {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1)
    throw new Error(`participant id must be <scheme>:<value>, got "${text}"`);
  return { scheme: text.slice(0, i), value: text.slice(i + 1) };
}

/** How a participant was identified and authenticated for one event (REQ3 / REQ4). */
export interface Identification {
  /** e.g. `http://uri.etsi.org/19522/v1#/AuthenticationMethod/apiKey` */
  readonly method: string;
  /** Assurance level URI, e.g. `http://eidas.europa.eu/LoA/low`. */
  readonly assuranceLevel: string;
  readonly authenticatedAt: Date;
  /** Identity assurance level (IAL) at which the participant was enrolled, when known (see core/assurance.ts). */
  readonly ial?: AssuranceLevel;
  /** Authenticator assurance level (AAL) of the credential used for this event, when known. */
  readonly aal?: AssuranceLevel;
  /**
   * Which credential authenticated it, for logs and audits: a certificate's SHA-256 fingerprint, an
   * OAuth2 client_id, an API key's name. Never a secret and never a personal number (My Number).
   */
  readonly credentialId?: string;
}

/** A participant as evidence records it. */
export interface ParticipantDetails {
  readonly id: ParticipantId;
  /** Human-readable name (saml:Attribute LegalName for companies). */
  readonly name?: string;
  readonly identification?: Identification;
}
