import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import { icdScheme } from './icd-schemes.js';

/**
 * Peppol identifiers after the Peppol Policy for use of Identifiers (PFUOI) 4.x. The Policy's PDF is not among
 * the stored sources; what is written here was read from the Peppol code lists (v9.7) and the reading of the
 * Policy in phax/peppol-commons (`PeppolIdentifierFactory`, `PeppolWildcardSelector`) and phax/peppol-cli's
 * feature catalogue, which quotes POLICY 2: participant values compare case-insensitively, their scheme and
 * every part of document type and process identifiers case-sensitively.
 */
export const PARTICIPANT_SCHEME = 'iso6523-actorid-upis';
export const DOCTYPE_SCHEME_BUSDOX = 'busdox-docid-qns';
export const DOCTYPE_SCHEME_WILDCARD = 'peppol-doctype-wildcard';
export const PROCESS_SCHEME = 'cenbii-procid-ubl';
/** Process of Peppol BIS Billing 3.0 and of the PINT specifications (JP PINT among them). */
export const PROCESS_BILLING = 'urn:peppol:bis:billing';
/**
 * Process of the PINT self-billing specifications (JP PINT self-billing `urn:peppol:pint:selfbilling-1@jp-1`).
 * The JP self-billing rule files were not among the stored sources: the value is the one PINT MY's self-billing
 * schematron (aligned-ibrp-002) requires and that PINT A-NZ/AE material names for self-billing, with the same
 * `cenbii-procid-ubl` scheme as billing.
 */
export const PROCESS_SELF_BILLING = 'urn:peppol:bis:selfbilling';
export const UBL_INVOICE_NS = 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2';
export const UBL_CREDIT_NOTE_NS = 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2';

/** `scheme::value`, as the SMP, SBDH and AS4 carry it. */
export interface PeppolIdentifier {
  readonly scheme: string;
  readonly value: string;
}

/** A participant: `iso6523-actorid-upis::<ICD>:<id>`. */
export interface ParticipantIdentifier extends PeppolIdentifier {
  readonly icd: string;
  readonly id: string;
}

/** A document type: `<syntax specific id>##<customization id>::<version>` (PFUOI §5 / POLICY 15). */
export interface DocumentTypeIdentifier extends PeppolIdentifier {
  /** `<root namespace>::<root local name>` for XML syntaxes. */
  readonly syntax: string;
  readonly customization: string;
  readonly version: string;
}

export type ProcessIdentifier = PeppolIdentifier;

export interface ParticipantIdOptions {
  /**
   * ICDs accepted; a participant under another ICD is refused. Values of ICDs qerds-ap knows (0188, 0088, 0192,
   * 0208, 9925) are always checked against their format and check digit. @defaultValue every four-digit ICD
   */
  readonly icds?: readonly string[];
  /**
   * Check the value of a known ICD (format and check digit). A receiving AP leaves this off for ids that arrive
   * over the network: the SMP already routed them, and public test material carries GLNs with wrong check digits.
   * @defaultValue true
   */
  readonly checkValues?: boolean;
}

export const formatIdentifier = (id: PeppolIdentifier): string => `${id.scheme}::${id.value}`;

/** Split `scheme::value` where the scheme is a Peppol scheme name (letters, digits, hyphens: no colon). */
function splitScheme(text: string): { scheme?: string; value: string } {
  const m = /^([A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)::(.*)$/s.exec(text);
  return m ? { scheme: m[1]!, value: m[2]! } : { value: text };
}

const invalid = (code: QerdsErrorCode, what: string, text: string, why: string): QerdsError =>
  new QerdsError(code, `${what} "${text}" is invalid: ${why}`, { details: { identifier: text } });

// POLICY 1: at most 130 characters after the ICD, from letters, digits, "-", ".", "_", "~" only.
const PARTICIPANT_VALUE = /^([0-9]{4}):([A-Za-z0-9._~-]{1,130})$/;

/** Parse `iso6523-actorid-upis::<ICD>:<id>` or `<ICD>:<id>`; the ICD's format and check digit must hold. */
export function parseParticipantId(text: string, options: ParticipantIdOptions = {}): ParticipantIdentifier {
  const { scheme = PARTICIPANT_SCHEME, value } = splitScheme(text.trim());
  const fail = (why: string) => invalid('PEPPOL_PARTICIPANT_ID_INVALID', 'participant identifier', text, why);
  if (scheme !== PARTICIPANT_SCHEME) throw fail(`the scheme must be ${PARTICIPANT_SCHEME}`);
  const m = PARTICIPANT_VALUE.exec(value);
  if (!m) throw fail('the value must be <4-digit ICD>:<1–130 of A–Z a–z 0–9 - . _ ~>');
  const [, icd, id] = m as unknown as [string, string, string];
  if (options.icds && !options.icds.includes(icd)) throw fail(`ICD ${icd} is not accepted here`);
  const known = options.checkValues === false ? undefined : icdScheme(icd);
  if (known && !known.pattern.test(id)) throw fail(`not a ${known.schemeId} value (${known.name})`);
  if (known && !known.checkDigit(id)) throw fail(`the ${known.schemeId} check digit does not match`);
  return Object.freeze({ scheme, value, icd, id });
}

/**
 * The recipient a submission names, as a full participant identifier. A Japanese sender may give the 13-digit
 * corporate number (法人番号) alone: it becomes `iso6523-actorid-upis::0188:<number>`, check digit verified.
 */
export function normaliseRecipient(text: string, options: ParticipantIdOptions = {}): ParticipantIdentifier {
  const trimmed = text.trim();
  return parseParticipantId(/^[0-9]{13}$/.test(trimmed) ? `0188:${trimmed}` : trimmed, options);
}

/** POLICY 2: same scheme (case-sensitive) and same value ignoring case. */
export function sameParticipant(a: PeppolIdentifier, b: PeppolIdentifier): boolean {
  return a.scheme === b.scheme && a.value.toLowerCase() === b.value.toLowerCase();
}

// ISO-8859-1 only (POLICY 1); customization ids carry no white space (POLICY 17 and §5.1.2 of the wildcard scheme).
const isLatin1 = (s: string): boolean => [...s].every((c) => c.codePointAt(0)! <= 0xff);
const WHITESPACE = /[\t\n\v\f\r \u0085\u00a0]/;

/**
 * Parse a document type identifier, `scheme::value` or a bare value. Without a scheme, a PINT customization
 * (`##urn:peppol:pint:`) means `peppol-doctype-wildcard`, anything else `busdox-docid-qns` (as peppol-commons
 * decides). In `busdox-docid-qns` no `*` may appear; in `peppol-doctype-wildcard` only as the last character of
 * the customization id (a registration that accepts extensions of it).
 */
export function parseDocumentTypeId(text: string, scheme?: string): DocumentTypeIdentifier {
  const split = splitScheme(text.trim());
  const value = split.value;
  const resolved =
    scheme ??
    split.scheme ??
    (value.includes('##urn:peppol:pint:') ? DOCTYPE_SCHEME_WILDCARD : DOCTYPE_SCHEME_BUSDOX);
  const fail = (why: string) => invalid('PEPPOL_DOCTYPE_ID_INVALID', 'document type identifier', text, why);
  if (split.scheme !== undefined && scheme !== undefined && split.scheme !== scheme)
    throw fail(`scheme ${split.scheme}, expected ${scheme}`);
  if (value.length === 0 || value.length > 500 || !isLatin1(value))
    throw fail('1–500 ISO-8859-1 characters required');
  const hash = value.indexOf('##');
  const lastColons = value.lastIndexOf('::');
  if (hash <= 0 || lastColons < hash + 2) throw fail('not <syntax>##<customization>::<version>');
  const syntax = value.slice(0, hash);
  const customization = value.slice(hash + 2, lastColons);
  const version = value.slice(lastColons + 2);
  if (!customization || !version) throw fail('customization id and version must not be empty');
  if (WHITESPACE.test(customization)) throw fail('the customization id contains white space');
  if (resolved === DOCTYPE_SCHEME_BUSDOX && customization.includes('*'))
    throw fail('"*" is not allowed in busdox-docid-qns');
  if (resolved === DOCTYPE_SCHEME_WILDCARD && customization.slice(0, -1).includes('*'))
    throw fail('"*" only as the last character');
  return Object.freeze({ scheme: resolved, value, syntax, customization, version });
}

/** Parse a process identifier, `scheme::value` or a bare value (scheme `cenbii-procid-ubl`). POLICY 25: no white space. */
export function parseProcessId(text: string): ProcessIdentifier {
  const { scheme = PROCESS_SCHEME, value } = splitScheme(text.trim());
  const fail = (why: string) => invalid('PEPPOL_PROCESS_ID_INVALID', 'process identifier', text, why);
  if (value.length === 0 || value.length > 200 || !isLatin1(value))
    throw fail('1–200 ISO-8859-1 characters required');
  if (WHITESPACE.test(value)) throw fail('white space is not allowed');
  return Object.freeze({ scheme, value });
}

/** Document types and processes compare exactly (POLICY 2). */
export function sameIdentifier(a: PeppolIdentifier, b: PeppolIdentifier): boolean {
  return a.scheme === b.scheme && a.value === b.value;
}

/**
 * Does an SMP registration accept this document type? Exact identifiers match exactly. A `peppol-doctype-wildcard`
 * registration whose customization id ends in `*` accepts the same syntax and version with a customization id equal
 * to the part before `*` or extending it by `@…` parts (PFUOI 4.2.0 §5.1.2: receivers register once for a PINT
 * base specification and every specialisation of it, e.g. `urn:peppol:pint:billing-1*` accepts
 * `urn:peppol:pint:billing-1@jp-1`). A prefix that is not at an `@` boundary (`billing-1*` vs `billing-10`) does not.
 */
export function registrationAccepts(
  registration: DocumentTypeIdentifier,
  document: DocumentTypeIdentifier,
): boolean {
  if (sameIdentifier(registration, document)) return true;
  if (registration.scheme !== DOCTYPE_SCHEME_WILDCARD || document.scheme !== DOCTYPE_SCHEME_WILDCARD)
    return false;
  if (!registration.customization.endsWith('*')) return false;
  if (registration.syntax !== document.syntax || registration.version !== document.version) return false;
  const base = registration.customization.slice(0, -1);
  const wanted = document.customization.replace(/\*$/, '');
  return wanted === base || wanted.startsWith(`${base}@`);
}

/**
 * The registration an SMP lookup should use for a document, best first: the exact identifier, then the wildcard
 * registration of the full customization id, then of ever shorter `@` prefixes (the order of peppol-commons'
 * `PeppolWildcardSelector`, PFUOI 4.3.0). Undefined when the participant registered none that accepts it.
 */
export function selectRegistration(
  registrations: readonly DocumentTypeIdentifier[],
  document: DocumentTypeIdentifier,
): DocumentTypeIdentifier | undefined {
  const exact = registrations.find((r) => sameIdentifier(r, document));
  if (exact || document.scheme !== DOCTYPE_SCHEME_WILDCARD) return exact;
  const accepting = registrations.filter((r) => registrationAccepts(r, document));
  // Longest base first: the most specific specialisation the receiver registered.
  return accepting.sort((a, b) => b.customization.length - a.customization.length)[0];
}

/**
 * The SMP lookup's document type matcher (directory/types.ts `DocumentTypeMatcher`, matched by shape: this module
 * does not import the directory). A `peppol-doctype-wildcard` document type is not asked of the SMP as is: the
 * participant's registrations are read from its service group and the best one chosen by `selectRegistration`, as
 * peppol-commons' SMP client does for that scheme (`getSchemeSpecificServiceMetadata`); `busdox-docid-qns` and other
 * schemes are asked for directly. Registrations that are not document type identifiers we can parse are skipped.
 */
export const peppolDocumentTypeMatcher = Object.freeze({
  appliesTo: (wanted: { readonly scheme?: string; readonly value: string }): boolean =>
    wanted.scheme === DOCTYPE_SCHEME_WILDCARD,
  select(
    wanted: { readonly scheme?: string; readonly value: string },
    registered: readonly { readonly scheme?: string; readonly value: string }[],
  ): DocumentTypeIdentifier | undefined {
    const document = parseDocumentTypeId(wanted.value, wanted.scheme ?? DOCTYPE_SCHEME_WILDCARD);
    const parsed = registered.flatMap((r) => {
      if (!r.scheme) return [];
      try {
        return [parseDocumentTypeId(r.value, r.scheme)];
      } catch {
        return [];
      }
    });
    return selectRegistration(parsed, document);
  },
});

/** JP PINT invoice and credit note document types (JP PINT 1.x, wildcard scheme) and the self-billing variants. */
export const JP_PINT_CUSTOMIZATION = 'urn:peppol:pint:billing-1@jp-1';
export const JP_PINT_SELF_BILLING_CUSTOMIZATION = 'urn:peppol:pint:selfbilling-1@jp-1';
/**
 * The Peppol process of a JP PINT document, by its CustomizationID: self-billing for `selfbilling-1@jp-1…`,
 * billing otherwise.
 */
export const jpPintProcess = (customizationId: string | undefined): ProcessIdentifier =>
  parseProcessId(
    `${PROCESS_SCHEME}::${customizationId?.startsWith(JP_PINT_SELF_BILLING_CUSTOMIZATION) ? PROCESS_SELF_BILLING : PROCESS_BILLING}`,
  );
export const jpPintDocumentType = (
  root: 'Invoice' | 'CreditNote',
  customization = JP_PINT_CUSTOMIZATION,
): DocumentTypeIdentifier =>
  parseDocumentTypeId(
    `${root === 'Invoice' ? UBL_INVOICE_NS : UBL_CREDIT_NOTE_NS}::${root}##${customization}::2.1`,
    DOCTYPE_SCHEME_WILDCARD,
  );
