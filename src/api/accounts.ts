import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { parseParticipantId, type AssuranceLevel, type ParticipantId } from '../core/index.js';
import { base32Decode } from './totp.js';

/** Certificate match of an `mtls` or `eseal` credential (config `accounts[].credentials[]`). */
export interface CertificateCredentialSpec {
  readonly kind: 'mtls' | 'eseal';
  readonly fingerprint256?: string;
  /** Subject DN, `C=JP, O=…, CN=…` (RDNs in certificate order, joined by `, `). */
  readonly subject?: string;
  readonly issuer?: string;
  readonly hardwareBound: boolean;
  readonly ial?: number;
}

export type CredentialSpec =
  | { readonly kind: 'apiKey'; readonly keySha256: string }
  | { readonly kind: 'oauth2'; readonly clientId: string; readonly secretHash: string }
  | { readonly kind: 'totp'; readonly secretBase32: string }
  | { readonly kind: 'password'; readonly passwordHash: string }
  | CertificateCredentialSpec;

/** A person's second factor for pickup links: its TOTP secret and/or password hash, with the account's IAL. */
export interface PickupFactors {
  readonly participant: ParticipantId;
  readonly ial: AssuranceLevel;
  readonly totpSecret?: Buffer;
  readonly passwordHash?: string;
}

/** One local participant with the IAL it was enrolled at and its credentials (config `accounts`). */
export interface AccountSpec {
  readonly participant: string;
  readonly name: string;
  readonly ial: number;
  readonly credentials: readonly CredentialSpec[];
}

/** A credential that authenticated a request, with the levels it warrants. */
export interface MatchedCredential {
  readonly participant: ParticipantId;
  readonly name: string;
  readonly ial: AssuranceLevel;
  readonly aal: AssuranceLevel;
  /** Never a secret: `apikey:<first 16 hex of its SHA-256>`, `oauth2:<client_id>`, `x509:<SHA-256 fingerprint>`. */
  readonly credentialId: string;
}

/**
 * AAL per credential kind. The Japanese guideline (like NIST SP 800-63B) counts factors of a natural
 * person; our callers are systems, so we rate the authenticator itself:
 * - a shared secret (API key, OAuth2 client secret) is replayable by whoever reads it, and the verifier
 *   holds something equivalent: AAL1, even over TLS (TLS protects the channel, it is no second factor);
 * - a private key proven in the TLS handshake or by a signature (mTLS, e-seal) is never sent and is
 *   bound to the channel or the content (verifier-impersonation resistant): AAL2 in software, AAL3 when
 *   the key is non-exportable in hardware (HSM, TPM, QSCD) — which the config asserts, we cannot see it.
 */
export const SHARED_SECRET_AAL: AssuranceLevel = 1;
export const certificateAal = (hardwareBound: boolean): AssuranceLevel => (hardwareBound ? 3 : 2);

interface CertificateEntry {
  readonly spec: CertificateCredentialSpec;
  readonly account: AccountSpec;
  readonly fingerprint?: string;
}

/** Lookups of the configured credentials; built once from `accounts` (the legacy `apiKeys` folded in by loadConfig). */
export class AccountRegistry {
  private readonly apiKeys: { digest: Buffer; match: MatchedCredential }[] = [];
  private readonly oauthClients = new Map<string, { secretHash: string; match: MatchedCredential }>();
  private readonly certificates: CertificateEntry[] = [];
  private readonly pickupFactors = new Map<string, PickupFactors>();
  /** Display names of every local participant, by `<scheme>:<value>`. */
  readonly names = new Map<string, string>();

  constructor(accounts: readonly AccountSpec[]) {
    for (const account of accounts) {
      this.names.set(account.participant, account.name);
      for (const c of account.credentials) {
        if (c.kind === 'apiKey') {
          const digest = Buffer.from(c.keySha256, 'hex');
          this.apiKeys.push({
            digest,
            match: matched(account, account.ial, SHARED_SECRET_AAL, apiKeyId(digest)),
          });
        } else if (c.kind === 'oauth2') {
          if (this.oauthClients.has(c.clientId))
            throw new Error(`oauth2 client_id ${c.clientId} is configured twice`);
          this.oauthClients.set(c.clientId, {
            secretHash: c.secretHash,
            match: matched(account, account.ial, SHARED_SECRET_AAL, `oauth2:${c.clientId}`),
          });
        } else if (c.kind === 'totp' || c.kind === 'password') {
          const factors = this.pickupFactors.get(account.participant) ?? {
            participant: parseParticipantId(account.participant),
            ial: account.ial as AssuranceLevel,
          };
          this.pickupFactors.set(
            account.participant,
            c.kind === 'totp'
              ? { ...factors, totpSecret: base32Decode(c.secretBase32) }
              : { ...factors, passwordHash: c.passwordHash },
          );
        } else {
          this.certificates.push({
            spec: c,
            account,
            fingerprint: c.fingerprint256 && normaliseFingerprint(c.fingerprint256),
          });
        }
      }
    }
  }

  /** The API key's account. Compared by SHA-256 in constant time against every key (threat: timing side channel revealing a key prefix). */
  byApiKey(presented: string): MatchedCredential | undefined {
    const digest = sha256(presented);
    let found: MatchedCredential | undefined;
    for (const row of this.apiKeys) if (timingSafeEqual(row.digest, digest)) found = row.match;
    return found;
  }

  /** The second factors a person enrolled for pickup links (`totp`, `password` credentials); undefined when none. */
  pickupFactorsOf(participant: string): PickupFactors | undefined {
    return this.pickupFactors.get(participant);
  }

  /** The OAuth2 client and its secret's hash; undefined for an unknown client_id. */
  oauthClient(
    clientId: string,
  ): { readonly secretHash: string; readonly match: MatchedCredential } | undefined {
    return this.oauthClients.get(clientId);
  }

  /**
   * The account a certificate (already validated against the trust anchors by the caller) belongs to, for
   * the given use. A pin matches the exact certificate; a subject (and issuer) match any certificate the
   * trusted CA issues with that name, so renewals need no config change.
   */
  byCertificate(kind: 'mtls' | 'eseal', cert: X509Certificate): MatchedCredential | undefined {
    const fingerprint = normaliseFingerprint(cert.fingerprint256);
    const subject = distinguishedName(cert.subject);
    const issuer = distinguishedName(cert.issuer);
    const entry = this.certificates.find(
      (e) =>
        e.spec.kind === kind &&
        (e.fingerprint !== undefined
          ? e.fingerprint === fingerprint
          : e.spec.subject !== undefined &&
            sameDn(e.spec.subject, subject) &&
            (e.spec.issuer === undefined || sameDn(e.spec.issuer, issuer))),
    );
    if (!entry) return undefined;
    const ial = (entry.spec.ial ?? entry.account.ial) as AssuranceLevel;
    return matched(entry.account, ial, certificateAal(entry.spec.hardwareBound), `x509:${fingerprint}`);
  }
}

function matched(
  account: { participant: string; name: string },
  ial: number,
  aal: AssuranceLevel,
  credentialId: string,
): MatchedCredential {
  return Object.freeze({
    participant: parseParticipantId(account.participant),
    name: account.name,
    ial: ial as AssuranceLevel,
    aal,
    credentialId,
  });
}

function apiKeyId(digest: Buffer): string {
  return `apikey:${digest.subarray(0, 8).toString('hex')}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** `AB:CD:…` or `abcd…` → `ABCD…`. */
export function normaliseFingerprint(text: string): string {
  return text.replace(/:/g, '').toUpperCase();
}

/** node prints a DN one RDN per line (`C=JP\nO=…\nCN=…`); the config writes `C=JP, O=…, CN=…`. */
function distinguishedName(nodeForm: string): string {
  return nodeForm.split('\n').join(', ');
}

function sameDn(configured: string, actual: string): boolean {
  const norm = (dn: string) =>
    dn
      .split(/\s*,\s*/)
      .map((rdn) => rdn.trim())
      .join(',');
  return norm(configured) === norm(actual);
}
