import type { Finding, PathValidationResult, TrustStore } from '../pki/index.js';
import { IN_FORCE_STATUSES, type TrustServiceType } from './names.js';
import type { TrustList } from './types.js';

/**
 * `base`, narrowed to certificates that are themselves the digital identity of a listed service of `type`
 * in force at the validation time (e.g. an AS4 peer must be a QERDS granted on the list when it signed).
 * The path checks of `base` (chain, validity, revocation) still apply first.
 *
 * Threat: any certificate from a CA that also serves others (a QESeal CA issues seals to every company)
 * would otherwise pass as an access point; the list, not the CA, says who runs a qualified ERDS.
 */
export function requireListedService(base: TrustStore, list: TrustList, type: TrustServiceType): TrustStore {
  function validate(
    leaf: Parameters<TrustStore['validate']>[0],
    options: Parameters<TrustStore['validate']>[1] = {},
  ): PathValidationResult {
    const result = base.validate(leaf, options);
    if (!result.valid) return result;
    const at = options.at ?? new Date();
    const services = list.services.filter(
      (s) => s.type === type && s.certificates.some((c) => c.fingerprint256 === leaf.fingerprint256),
    );
    if (services.some((s) => IN_FORCE_STATUSES.has(s.statusAt(at)!))) return result;
    const subject = leaf.subject.replace(/\n/g, ', ');
    const finding: Finding =
      services.length === 0
        ? {
            code: 'TL_NOT_LISTED',
            message: `${subject} is not a ${type} service on the trusted list`,
            severity: 'error',
          }
        : {
            code: 'TL_NOT_IN_FORCE',
            message: `${subject} is a ${type} service whose status at ${at.toISOString()} is ${services.map((s) => s.statusAt(at) ?? 'not yet listed').join(', ')}`,
            severity: 'error',
          };
    return { valid: false, path: result.path, findings: [...result.findings, finding] };
  }
  return Object.freeze({
    anchors: base.anchors,
    // Read through: base's CRLs may be replaced while the AP runs (pki CrlSet).
    get crls() {
      return base.crls;
    },
    validate,
  });
}
