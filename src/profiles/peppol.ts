import type { PModeInput } from '../as4/index.js';
import {
  PROCESS_BILLING,
  PROCESS_SCHEME,
  formatIdentifier,
  jpPintDocumentType,
  peppolAs4Profile,
} from '../peppol/index.js';

/**
 * The P-Modes of a qerds-ap serving JP PINT on Peppol: one per document type it exchanges (JP PINT Invoice and
 * CreditNote under the Peppol billing process), on the Peppol AS4 profile. They name no parties: the PartyIds are
 * the CNs of the AP certificates, filled per message (the sender's own, the receiver's from the directory).
 */
export function peppolJpPintPModes(): PModeInput[] {
  const defaults = peppolAs4Profile.pmodeDefaults;
  return (['Invoice', 'CreditNote'] as const).map((root) => ({
    ...defaults,
    id: `peppol-jp-pint-${root.toLowerCase()}`,
    service: PROCESS_BILLING,
    serviceType: PROCESS_SCHEME,
    action: formatIdentifier(jpPintDocumentType(root)),
  }));
}
