import type { QerdsConfig } from '../config/index.js';
import { QerdsError, type Clock } from '../core/index.js';
import {
  bdxlLocator,
  createSmpDirectory,
  createStaticDirectory,
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
 */
export function createConfiguredDirectory(
  config: QerdsConfig['directory'],
  trust: TrustStore,
  clock: Clock,
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

/** `scheme::value` (SMP notation, validated by the config schema) → identifier. */
function smpIdentifier(text: string): SmpIdentifier {
  const i = text.indexOf('::');
  return { scheme: text.slice(0, i), value: text.slice(i + 2) };
}
