/** organizationIdentifier (X.520 2.5.4.97): EN 319 412-1 §5.1.4 puts the legal person's identifier there. */
export const ORGANIZATION_IDENTIFIER_OID = '2.5.4.97';

/**
 * The access point id that the dev PKI writes into the organizationIdentifier of AP `name`'s e-seal, and that an
 * AP using that seal must be configured with (`ap.id`; its evidence names it as issuer, the verifier compares).
 *
 * The value is the AP's own id scheme (`urn:qerds-ap:ap:<name>`), not the EN 319 412-1 §5.1.4 "legal person
 * semantics identifier" form (`VATJP-…`, `NTRJP-…`: type, country, hyphen, registration number). That structure
 * belongs to an organisation registered somewhere, and it may only be written with the semantics identifier
 * id-etsi-qcs-semanticsId-Legal in the QC statements; a dev AP is registered nowhere, and inventing a registration
 * number would present a fake as a legal person. Without that QC statement §5.1.4 leaves the value's form open,
 * and the AP's own id keeps one string for `ap.id`, the evidence's issuer and the seal. A production QSealC has
 * whatever the QTSP wrote (often `NTRJP-<corporate number>`): `ap.id` is then set to that value.
 */
export function devApId(name: string): string {
  return `urn:qerds-ap:ap:${name}`;
}
