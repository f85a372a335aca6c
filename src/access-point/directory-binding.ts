import type { QerdsConfig } from '../config/index.js';
import { QerdsError, type Clock } from '../core/index.js';
import {
  bdxlLocator,
  createSmpDirectory,
  createStaticDirectory,
  DEFAULT_TRANSPORT_PROFILES,
  PEPPOL_TRANSPORT_PROFILES,
  type Directory,
  type SmpIdentifier,
} from '../directory/index.js';
import { peppolDocumentTypeMatcher, peppolSmpSignatureRules } from '../peppol/index.js';
import { loadTrustStore, type TrustStore } from '../pki/index.js';

/**
 * The directory `config.directory` describes: the static participants alone, or (kind `smp`) the static
 * participants first and then the SMP — one fixed URL or found by BDXL — whose signed answers are
 * verified against `smp.trust` (default: the AP's trust store) and cached for `cacheTtlSeconds`. The Peppol rules
 * are wired in: `peppol-doctype-wildcard` document types matched against the participant's registrations, Peppol
 * SMP 1.x signers with TLS-only key usages, and RSA-SHA1 on those responses only when `smp.allowRsaSha1` says so.
 *
 * Static first: an operator's own entry (a pinned peer, a participant no SMP publishes) is a deliberate
 * local decision and must not be overridden by a network answer.
 *
 * A lookup naming a service (the pipeline's, for a Peppol message: the document type and process of its UBL,
 * `access-point/as4-peppol.ts peppolServiceOf`) asks the SMP for that document type and process rather than
 * `smp.documentType` / `smp.process`, which remain what `qerds lookup` and `GET /api/v1/recipients` ask for.
 * Answers are cached per participant and service for `cacheTtlSeconds` (default 3600), never past the endpoint's
 * expiration or its certificate's notAfter; "not registered" for at most 60 s; refusals are never cached.
 *
 * `as4Profile` (the AP's `as4.profile`) restricts the transport profiles taken from the SMP: a Peppol AP accepts
 * `peppol-transport-as4-v2_0` alone (`transportProfilesFor`), so an endpoint of another profile — the REM SMTP
 * relay's `etsi-rem-smtp` among them — leaves the participant not reachable (DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED).
 */
export function createConfiguredDirectory(
  config: QerdsConfig['directory'],
  trust: TrustStore,
  clock: Clock,
  as4Profile: string,
): Directory {
  const local = createStaticDirectory(config.participants);
  if (config.kind === 'static') return local;
  const smp = config.smp;
  if (!smp) throw new QerdsError('CONFIG_INVALID', 'directory.kind smp needs directory.smp');
  const remote = createSmpDirectory({
    ...(smp.url
      ? { baseUrl: smp.url }
      : {
          locator: bdxlLocator({
            zone: smp.bdxl!.domain,
            mode: smp.bdxl!.mode,
            servers: smp.bdxl!.dnsServers,
          }),
        }),
    trust: smp.trust ? loadTrustStore(smp.trust) : trust,
    documentTypeId: smpIdentifier(smp.documentType),
    documentTypeMatcher: peppolDocumentTypeMatcher,
    signatureRules: peppolSmpSignatureRules({ allowRsaSha1: smp.allowRsaSha1 }),
    ...(smp.process ? { processId: smpIdentifier(smp.process) } : {}),
    binding: smp.binding,
    transportProfiles: transportProfilesFor(as4Profile),
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    timeoutMs: smp.timeoutMs,
    clock,
  });
  const directory: Directory = {
    lookup: async (participant, service) =>
      (await local.lookup(participant, service)) ?? remote.lookup(participant, service),
  };
  return Object.freeze(directory);
}

/**
 * The SMP transport profiles an AP of this AS4 profile accepts, most preferred first: Peppol AS4 alone for a Peppol
 * AP (threat: a trusted SMP publishing an SMTP or non-Peppol AS4 endpoint making a Peppol AP leave the Peppol
 * transport), else every default profile (AS4, then the REM SMTP relay).
 */
export function transportProfilesFor(as4Profile: string): readonly string[] {
  return as4Profile === 'peppol' ? PEPPOL_TRANSPORT_PROFILES : DEFAULT_TRANSPORT_PROFILES;
}

/** `scheme::value` (SMP notation, validated by the config schema) → identifier. */
function smpIdentifier(text: string): SmpIdentifier {
  const i = text.indexOf('::');
  return { scheme: text.slice(0, i), value: text.slice(i + 2) };
}
