import type { PModeInput } from '../as4/index.js';
import {
  JP_PINT_SELF_BILLING_CUSTOMIZATION,
  PROCESS_BILLING,
  PROCESS_SCHEME,
  PROCESS_SELF_BILLING,
  formatIdentifier,
  jpPintDocumentType,
  peppolAs4Profile,
} from '../peppol/index.js';

/**
 * The P-Modes of a qerds-ap serving JP PINT on Peppol: one per document type it exchanges (JP PINT Invoice and
 * CreditNote under the Peppol billing process, and the JP PINT self-billing Invoice under the self-billing process),
 * on the Peppol AS4 profile. They name no parties: the PartyIds are the CNs of the AP certificates, filled per
 * message (the sender's own, the receiver's from the directory).
 *
 * Self-billing: `Invoice##urn:peppol:pint:selfbilling-1@jp-1::2.1` is the document type the Peppol code list
 * names (as read in stored code-list tests; the code list itself is not stored), an Invoice only — no JP
 * self-billing CreditNote is listed, unlike A-NZ and MY. Its process `urn:peppol:bis:selfbilling` is taken from
 * the PINT MY self-billing schematron (peppol/identifiers.ts PROCESS_SELF_BILLING): the JP self-billing rule files
 * were not among the stored sources.
 */
export function peppolJpPintPModes(): PModeInput[] {
  const defaults = peppolAs4Profile.pmodeDefaults;
  const billing = (['Invoice', 'CreditNote'] as const).map((root) => ({
    ...defaults,
    id: `peppol-jp-pint-${root.toLowerCase()}`,
    service: PROCESS_BILLING,
    serviceType: PROCESS_SCHEME,
    action: formatIdentifier(jpPintDocumentType(root)),
  }));
  return [
    ...billing,
    {
      ...defaults,
      id: 'peppol-jp-pint-selfbilling-invoice',
      service: PROCESS_SELF_BILLING,
      serviceType: PROCESS_SCHEME,
      action: formatIdentifier(jpPintDocumentType('Invoice', JP_PINT_SELF_BILLING_CUSTOMIZATION)),
    },
  ];
}
